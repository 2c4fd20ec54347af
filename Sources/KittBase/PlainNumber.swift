/// How kitt writes a number for people and plain-text formats: a whole number without a
/// fraction (`42`, `1000000000`, not `42.0` or `1e+09`), anything else as Swift prints it
/// (`0.0025`, `1e+300`, `nan`, `inf`). Never traps: only magnitudes below 1e15 go through
/// `Int64`.
public func plainNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

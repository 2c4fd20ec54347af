/// Low-level writers appending compact JSON to a byte buffer.
public enum JSONWriter {
    /// Quoted and escaped: `"` `\` and control characters < 0x20 (as \b \f \n \r \t or \u00XX).
    /// Everything else (including '<' '>' '&', DEL, U+2028/2029) is written as UTF-8 verbatim.
    public static func writeString(_ s: String, into buffer: inout [UInt8]) {
        var s = s
        s.withUTF8 { writeEscaped($0, into: &buffer) }
    }

    /// Shortest round-trip representation (Swift's `description`; integral values print as "2.0",
    /// large/small ones with an exponent such as "1e+16"). Non-finite values write `null`.
    public static func writeDouble(_ d: Double, into buffer: inout [UInt8]) {
        guard d.isFinite else { appendNull(into: &buffer); return }
        buffer.append(contentsOf: d.description.utf8)
    }

    /// Decimal integer, no allocation.
    public static func writeInt(_ v: Int, into buffer: inout [UInt8]) {
        var magnitude = v.magnitude
        if v < 0 { buffer.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            buffer.append(UInt8(truncatingIfNeeded: magnitude) &+ 0x30)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { tmp in
            var i = 20
            while magnitude > 0 {
                i -= 1
                let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
                tmp[i] = UInt8(truncatingIfNeeded: r) &+ 0x30
                magnitude = q
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: tmp[i..<20]))
        }
    }

    static func appendNull(into buffer: inout [UInt8]) {
        buffer.append(0x6E); buffer.append(0x75); buffer.append(0x6C); buffer.append(0x6C)
    }

    static func appendBool(_ b: Bool, into buffer: inout [UInt8]) {
        if b {
            buffer.append(0x74); buffer.append(0x72); buffer.append(0x75); buffer.append(0x65)
        } else {
            buffer.append(0x66); buffer.append(0x61); buffer.append(0x6C); buffer.append(0x73); buffer.append(0x65)
        }
    }

    @inline(__always) private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? v &+ 0x30 : v &+ 0x57 }

    static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = utf8.count
        while i < n {
            let b = utf8[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C { i += 1; continue }
            if runStart < i { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
            buffer.append(UInt8(ascii: "\\"))
            switch b {
            case 0x22: buffer.append(0x22)
            case 0x5C: buffer.append(0x5C)
            case 0x0A: buffer.append(UInt8(ascii: "n"))
            case 0x0D: buffer.append(UInt8(ascii: "r"))
            case 0x09: buffer.append(UInt8(ascii: "t"))
            case 0x08: buffer.append(UInt8(ascii: "b"))
            case 0x0C: buffer.append(UInt8(ascii: "f"))
            default:
                buffer.append(UInt8(ascii: "u")); buffer.append(0x30); buffer.append(0x30)
                buffer.append(hexDigit(b >> 4))
                buffer.append(hexDigit(b & 0xF))
            }
            i += 1
            runStart = i
        }
        if runStart < n { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n])) }
        buffer.append(UInt8(ascii: "\""))
    }
}

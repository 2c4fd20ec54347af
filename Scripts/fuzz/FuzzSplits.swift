// Shared by the fuzz harnesses: the piece sizes for feeding `count` bytes, from the control
// byte (bits 0-5: size - 1; bit 7: a different size per piece, from a xorshift seeded by it).
func fuzzSplits(control: UInt8, count: Int) -> [Int] {
    var splits: [Int] = []
    var state = UInt32(control) | 0x9E37_0000
    for _ in 0..<max(1, count) {
        if control & 0x80 != 0 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            splits.append(Int(state % 64) + 1)
        } else {
            splits.append(Int(control & 0x3F) + 1)
        }
    }
    return splits
}

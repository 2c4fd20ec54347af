extension Substring {
    /// Without the leading and trailing characters found in `characters` (default: space and
    /// tab, HTTP's optional whitespace).
    public func trimmed(_ characters: String = " \t") -> Substring {
        var s = self
        while let first = s.first, characters.contains(first) { s.removeFirst() }
        while let last = s.last, characters.contains(last) { s.removeLast() }
        return s
    }
}

extension String {
    /// Without the leading and trailing characters found in `characters` (default: space and tab).
    public func trimmed(_ characters: String = " \t") -> Substring { self[...].trimmed(characters) }
}

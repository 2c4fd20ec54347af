import Glibc
import KittBase
import Testing

/// A fresh directory under /tmp, removed with what is in it at the end.
private final class Scratch {
    let path: String
    init() throws {
        var template = Array("/tmp/kitt-base-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        path = String(cString: made)
    }
    func entries(_ directory: String? = nil) -> [String] {
        guard let dir = opendir(directory ?? path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
    deinit { try? Files.removeTree(path) }
}

private func mode(of path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
}

@Suite struct FilesTests {
    @Test func atomicWriteReplacesTheFileWithTheModeAndLeavesNoTemp() throws {
        let dir = try Scratch()
        let path = dir.path + "/token"
        try Files.writeAtomically(Array("old\n".utf8), to: path, mode: 0o644)
        let previous = umask(0o077)
        defer { umask(previous) }
        try Files.writeAtomically(Array("new\n".utf8), to: path, mode: 0o640)
        #expect(Files.readText(path) == "new\n")
        #expect(mode(of: path) == 0o640)
        #expect(dir.entries() == ["token"])
    }

    @Test func atomicWriteThatCannotRenameRemovesItsTempAndKeepsTheTarget() throws {
        let dir = try Scratch()
        // A non-empty directory cannot be replaced by a file: rename fails after the temp
        // file was written and fsynced.
        let target = dir.path + "/target"
        #expect(mkdir(target, 0o700) == 0)
        try Files.writeAtomically(Array("inside".utf8), to: target + "/keep", mode: 0o600)
        #expect(throws: SystemError.self) {
            try Files.writeAtomically(Array("x".utf8), to: target, mode: 0o600)
        }
        #expect(dir.entries() == ["target"])
        #expect(dir.entries(target) == ["keep"])
    }

    @Test func atomicWriteIntoAMissingFolderThrowsAndCreatesNothing() throws {
        let dir = try Scratch()
        #expect(throws: SystemError.self) {
            try Files.writeAtomically(Array("x".utf8), to: dir.path + "/missing/file", mode: 0o600)
        }
        #expect(dir.entries().isEmpty)
    }

    @Test func readHonoursItsLimitAndReadPrefixCuts() throws {
        let dir = try Scratch()
        let path = dir.path + "/data"
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Files.writeAtomically(bytes, to: path)
        #expect(Files.read(path) == bytes)
        #expect(Files.read(path, limit: bytes.count) == bytes)
        #expect(Files.read(path, limit: bytes.count - 1) == nil)
        #expect(Files.readPrefix(path, maxBytes: 70_000) == Array(bytes.prefix(70_000)))
        #expect(Files.readPrefix(path, maxBytes: 1 << 30) == bytes)
        #expect(Files.read(dir.path + "/absent") == nil)
        #expect(Files.read(dir.path) == nil, "a directory is not a readable file")
    }

    @Test func readsProcfsFilesThatReportSizeZero() {
        guard Files.exists("/proc/self/status") else { return }
        #expect(Files.readText("/proc/self/status")?.contains("Pid:") == true)
    }
}

@Suite struct RemoveTreeTests {
    @Test func removesANestedTreeAndUnlinksSymlinksWithoutFollowingThem() throws {
        let scratch = try Scratch()
        let outside = scratch.path + "/outside"
        try Files.makeDirectory(outside + "/keep")
        try Files.writeAtomically(Array("kept".utf8), to: outside + "/keep/file")
        let tree = scratch.path + "/tree"
        try Files.makeDirectory(tree + "/a/b/c")
        try Files.writeAtomically(Array("x".utf8), to: tree + "/a/b/c/file")
        try Files.writeAtomically(Array("y".utf8), to: tree + "/top")
        #expect(symlink(outside, tree + "/a/link-to-outside") == 0)
        #expect(symlink(outside + "/keep/file", tree + "/a/b/link-to-file") == 0)

        try Files.removeTree(tree + "/")
        #expect(!Files.exists(tree))
        #expect(Files.readText(outside + "/keep/file") == "kept")
        #expect(scratch.entries() == ["outside"])
        // Gone already: nothing to do.
        try Files.removeTree(tree)
        try Files.removeTree(scratch.path + "/never/there")
    }

    @Test func refusesNamesThatAreNotEntries() {
        #expect(throws: SystemError.self) { try Files.removeTree("/tmp/..") }
        #expect(throws: SystemError.self) { try Files.removeTree(".") }
    }
}

@Suite struct RandomAndTextTests {
    @Test func hexIsLowercaseTwoDigitsPerByte() {
        #expect(Hex.lowercase([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.lowercase([]) == "")
    }

    @Test func randomTokensHaveTheirLengthAndDiffer() {
        let tokens = (0..<100).map { _ in SecureRandom.hex(bytes: 32) }
        #expect(tokens.allSatisfy { $0.utf8.count == 64 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } })
        #expect(Set(tokens).count == tokens.count)
        #expect(SecureRandom.bytes(13).count == 13)
        // Every byte value turns up in 64 KiB of output (a stuck or short generator would not).
        #expect(Set(SecureRandom.bytes(1 << 16)).count == 256)
    }

    @Test(arguments: [
        ("  a b\t", " \t", "a b"), ("\t\t", " \t", ""), ("x", " \t", "x"), (" \rv\r ", " \r", "v"), ("\t\u{00A0}x", " \t", "\u{00A0}x"),
        ("", " ", ""),
    ])
    func trimmedDropsOnlyTheGivenCharactersAtTheEnds(input: String, set: String, expected: String) {
        #expect(String(input.trimmed(set)) == expected)
        #expect(String(input[...].trimmed(set)) == expected)
    }
}

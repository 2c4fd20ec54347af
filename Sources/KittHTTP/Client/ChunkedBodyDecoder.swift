/// Decodes a `Transfer-Encoding: chunked` response body as it arrives, one byte of state at a
/// time, so every byte is looked at once however the input is split (RFC 9112 §7.1). Chunk
/// extensions are skipped; trailers are read and dropped. Sizes are bounded while the input is
/// still incomplete: a chunk size past `maxBodyBytes`, an extension or trailer line past
/// `maxLineBytes`, a trailer section past `maxTrailerBytes`.
public struct ChunkedBodyDecoder: Sendable {
    enum State: Equatable, Sendable {
        /// Before the first hex digit (optional spaces/tabs allowed).
        case sizeStart
        case sizeDigits(Int)
        /// After the digits: whitespace, then `;` extensions or CR.
        case sizeEnd(Int)
        case sizeExtension(Int, length: Int)
        case sizeLF(Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        /// At the start of a trailer line or the final empty line.
        case trailerStart
        case trailerLine(length: Int)
        case trailerLF
        case finalLF
        case done
    }

    private(set) var state = State.sizeStart
    /// Bytes looked at one by one (sizes, extensions, CRLFs, trailers): the fuzzer checks
    /// that, with the bulk-copied data, this never exceeds the input.
    private(set) var scannedBytes = 0
    private var trailerBytes = 0
    private let maxBodyBytes: Int
    private let maxLineBytes: Int
    private let maxTrailerBytes: Int

    public init(maxBodyBytes: Int, maxLineBytes: Int = 4096, maxTrailerBytes: Int = 64 << 10) {
        self.maxBodyBytes = maxBodyBytes
        self.maxLineBytes = maxLineBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// True once the last chunk and the trailers' empty line have been read.
    public var isDone: Bool { state == .done }

    /// Decodes from `input`, appending the payload to `body`. Returns how many bytes of
    /// `input` it used: all of them, or fewer when the body ended inside it.
    public mutating func feed(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8]
    ) throws(HTTPResponseParser.Failure) -> Int {
        var i = 0
        while i < input.count {
            if case .data(let remaining) = state {
                let taken = min(remaining, input.count - i)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + taken)]))
                if body.count > maxBodyBytes { throw .tooLarge }
                scannedBytes += taken
                i += taken
                state = taken == remaining ? .dataCR : .data(remaining: remaining - taken)
                continue
            }
            if state == .done { return i }
            scannedBytes += 1
            try step(input[i])
            i += 1
        }
        return i
    }

    private mutating func step(_ byte: UInt8) throws(HTTPResponseParser.Failure) {
        switch state {
        case .sizeStart:
            if ASCII.isWhitespace(byte) { return }
            guard let digit = ASCII.hexValue(byte) else { throw .malformed("bad chunk size") }
            state = .sizeDigits(digit)
        case .sizeDigits(let size):
            if let digit = ASCII.hexValue(byte) {
                // Checked before multiplying, so a long run of digits cannot overflow.
                guard size <= maxBodyBytes else { throw .tooLarge }
                state = .sizeDigits(size * 16 + digit)
            } else {
                state = .sizeEnd(size)
                try step(byte)
            }
        case .sizeEnd(let size):
            guard size <= maxBodyBytes else { throw .tooLarge }
            if ASCII.isWhitespace(byte) { return }
            if byte == UInt8(ascii: ";") {
                state = .sizeExtension(size, length: 0)
            } else if byte == ASCII.cr {
                state = .sizeLF(size)
            } else {
                throw .malformed("bad chunk size")
            }
        case .sizeExtension(let size, let length):
            if byte == ASCII.cr {
                state = .sizeLF(size)
            } else {
                guard byte != ASCII.lf else { throw .malformed("bare LF in chunk extension") }
                guard length < maxLineBytes else { throw .tooLarge }
                state = .sizeExtension(size, length: length + 1)
            }
        case .sizeLF(let size):
            guard byte == ASCII.lf else { throw .malformed("chunk size line without CRLF") }
            state = size == 0 ? .trailerStart : .data(remaining: size)
        case .data:
            preconditionFailure("chunk data is copied in bulk by feed")
        case .dataCR:
            guard byte == ASCII.cr else { throw .malformed("chunk without its CRLF") }
            state = .dataLF
        case .dataLF:
            guard byte == ASCII.lf else { throw .malformed("chunk without its CRLF") }
            state = .sizeStart
        case .trailerStart:
            state = byte == ASCII.cr ? .finalLF : .trailerLine(length: 0)
            if byte != ASCII.cr { try countTrailer(byte) }
        case .trailerLine(let length):
            if byte == ASCII.cr {
                state = .trailerLF
            } else {
                guard length < maxLineBytes else { throw .tooLarge }
                state = .trailerLine(length: length + 1)
                try countTrailer(byte)
            }
        case .trailerLF:
            guard byte == ASCII.lf else { throw .malformed("trailer line without CRLF") }
            state = .trailerStart
        case .finalLF:
            guard byte == ASCII.lf else { throw .malformed("chunked body without its final CRLF") }
            state = .done
        case .done:
            break
        }
    }

    private mutating func countTrailer(_ byte: UInt8) throws(HTTPResponseParser.Failure) {
        guard byte != ASCII.lf else { throw .malformed("bare LF in trailer") }
        trailerBytes += 1
        guard trailerBytes <= maxTrailerBytes else { throw .tooLarge }
    }
}

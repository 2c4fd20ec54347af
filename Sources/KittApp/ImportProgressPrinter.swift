#if canImport(Glibc)
import Glibc
#endif

/// `kitt import`'s progress on stderr: on a terminal one line rewritten in place twice a
/// second; otherwise (a log, a pipe) a plain line every 5 seconds.
struct ImportProgressPrinter {
    let terminal: Bool

    var interval: Double { terminal ? 0.5 : 5 }

    func show(_ progress: ImportProgress) {
        let text = "importing: " + progress.line
        if terminal {
            emit("\r\u{1B}[K" + text)
        } else {
            emit(text + "\n")
        }
    }

    /// Ends the live line so the next output starts on a clean line.
    func clear() {
        if terminal { emit("\r\u{1B}[K") }
    }

    private func emit(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

import KittJSON
import KittSQLite

/// One row of a KITT table read by column name; a column the file does not have reads as
/// nil (KITT added columns over its versions), never as a trap.
struct KITT1Row: Sendable {
    let row: Row

    private func value(_ column: String) -> SQLiteValue? {
        row.columnNames.contains(column) ? row[column] : nil
    }

    /// Text (numbers as their text); nil for NULL or a missing column.
    func text(_ column: String) -> String? {
        switch value(column) {
        case .text(let text)?: text
        case .integer(let number)?: String(number)
        case .real(let number)?: String(number)
        default: nil
        }
    }

    /// Text, with "" (KITT's default for unset optional columns) as nil.
    func optionalText(_ column: String) -> String? {
        guard let text = text(column), !text.isEmpty else { return nil }
        return text
    }

    func int(_ column: String) -> Int? {
        switch value(column) {
        case .integer(let number)?: Int(exactly: number)
        case .real(let number)?: number.isFinite ? Int(exactly: number.rounded(.towardZero)) : nil
        case .text(let text)?: Int(text)
        default: nil
        }
    }

    func double(_ column: String) -> Double? {
        switch value(column) {
        case .integer(let number)?: Double(number)
        case .real(let number)?: number.isFinite ? number : nil
        case .text(let text)?: Double(text).flatMap { $0.isFinite ? $0 : nil }
        default: nil
        }
    }

    /// A KITT timestamp in kitt's form (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). KITT wrote SQLite's
    /// `datetime('now')` (`2026-12-01 22:50:48`, UTC) and Python's `isoformat()` without a
    /// zone; both are taken as UTC. Text in another form is kept as it is; "" is nil.
    func timestamp(_ column: String) -> String? {
        optionalText(column).map(KITT1Row.normalizedTimestamp)
    }

    static func normalizedTimestamp(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, Timestamp.epochSeconds(text) != nil,
            bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T")
        else { return text }
        var fraction: [UInt8] = []
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if fraction.count < 6 { fraction.append(bytes[index]) }
                index += 1
            }
        }
        let zone = String(decoding: bytes[index...], as: UTF8.self)
        guard zone.isEmpty || zone == "Z" || zone == "+00:00" else { return text }
        while fraction.count < 6 { fraction.append(UInt8(ascii: "0")) }
        return String(decoding: bytes[0..<10], as: UTF8.self) + "T" + String(decoding: bytes[11..<19], as: UTF8.self)
            + "." + String(decoding: fraction, as: UTF8.self) + "Z"
    }
}

import KittHTTP
import KittJSON

/// Reading and validating JSON bodies: every problem is a 400 that names the field.
extension HTTPRequest {
    /// The body parsed as JSON; malformed JSON or a key repeated in one object → 400 (kitt
    /// stores some bodies as sent, and a client must never get a key twice back).
    public func jsonBody() throws(HTTPError) -> JSON {
        if body.isEmpty { throw HTTPError.badRequest("request body must be JSON") }
        do {
            return try JSON(parsing: body, uniqueKeys: true)
        } catch {
            throw HTTPError.badRequest("malformed JSON: \(error.description)")
        }
    }

    /// The body as a JSON object (an empty body counts as `{}` when `allowEmpty`).
    public func jsonObject(allowEmpty: Bool = false) throws(HTTPError) -> JSONObject {
        if allowEmpty && body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return JSONObject()
        }
        guard case .object(let object) = try jsonBody() else {
            throw HTTPError.badRequest("request body must be a JSON object")
        }
        return object
    }
}

/// Typed field access with 400s that say which field and what was expected.
extension JSONObject {
    public func requiredString(_ key: String) throws(HTTPError) -> String {
        guard let value = self[key], !value.isNull else { throw HTTPError.badRequest("'\(key)' is required") }
        guard let string = value.stringValue else {
            throw HTTPError.badRequest("'\(key)' must be a string, got \(value.typeName)")
        }
        guard !string.isEmpty else { throw HTTPError.badRequest("'\(key)' must not be empty") }
        return string
    }

    public func optionalString(_ key: String) throws(HTTPError) -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let string = value.stringValue else {
            throw HTTPError.badRequest("'\(key)' must be a string, got \(value.typeName)")
        }
        return string
    }

    public func optionalInt(_ key: String) throws(HTTPError) -> Int? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .int(let int) = value else {
            if case .double(let d) = value, let exact = Int(exactly: d) { return exact }
            throw HTTPError.badRequest("'\(key)' must be an integer, got \(value.typeName)")
        }
        return int
    }

    public func optionalDouble(_ key: String) throws(HTTPError) -> Double? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let double = value.doubleValue, value.boolValue == nil else {
            throw HTTPError.badRequest("'\(key)' must be a number, got \(value.typeName)")
        }
        return double
    }

    public func optionalBool(_ key: String) throws(HTTPError) -> Bool? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let bool = value.boolValue else {
            throw HTTPError.badRequest("'\(key)' must be a boolean, got \(value.typeName)")
        }
        return bool
    }

    public func optionalStringArray(_ key: String) throws(HTTPError) -> [String]? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let array = value.arrayValue else {
            throw HTTPError.badRequest("'\(key)' must be an array of strings, got \(value.typeName)")
        }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let string = element.stringValue else {
                throw HTTPError.badRequest("'\(key)[\(index)]' must be a string, got \(element.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    public func optionalObject(_ key: String) throws(HTTPError) -> JSONObject? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let object = value.objectValue else {
            throw HTTPError.badRequest("'\(key)' must be an object, got \(value.typeName)")
        }
        return object
    }
}

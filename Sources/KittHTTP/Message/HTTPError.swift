import KittBase
import KittJSON

/// An error a handler throws to answer with a status and a JSON `{"error": message}` body.
/// Any other thrown error becomes a 500 whose body says nothing about internals.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public let status: HTTPStatus
    public let message: String
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, _ message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message)" }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }
    public static func notFound(_ message: String = "not found") -> HTTPError { HTTPError(.notFound, message) }
    public static func unauthorized(_ message: String = "authentication required") -> HTTPError {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: "Bearer")
        return HTTPError(.unauthorized, message, headers: headers)
    }
    public static func forbidden(_ message: String = "invalid token") -> HTTPError { HTTPError(.forbidden, message) }
    public static func conflict(_ message: String) -> HTTPError { HTTPError(.conflict, message) }
    public static func serviceUnavailable(_ message: String) -> HTTPError { HTTPError(.serviceUnavailable, message) }
    public static func badGateway(_ message: String) -> HTTPError { HTTPError(.badGateway, message) }

    public var response: HTTPResponse {
        var response = HTTPResponse.error(status, message)
        for field in headers { response.headers.add(name: field.name, value: field.value) }
        return response
    }

    /// The one place a thrown error becomes a response.
    public static func response(for error: any Error) -> HTTPResponse {
        if let error = error as? HTTPError { return error.response }
        if let fault = error as? any ClientFault, let message = fault.clientMessage {
            return HTTPResponse.error(.badRequest, message)
        }
        return HTTPResponse.error(.internalServerError, "internal server error")
    }
}

/// An error a request's own input caused, whatever layer found it (e.g. PostgreSQL refusing
/// text with a NUL byte): the HTTP layer answers it with a 400 naming `clientMessage`
/// instead of a 500. `clientMessage` is nil when this particular error is not the client's.
public protocol ClientFault: Error {
    var clientMessage: String? { get }
}

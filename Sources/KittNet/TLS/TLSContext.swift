import COpenSSL
import Glibc

/// One configured `SSL_CTX`: the server's (certificate + key) or a client's (trust anchors).
///
/// Building a context reads files (blocking disk I/O): do it once at startup, never on a connection
/// queue. `@unchecked Sendable` because the `SSL_CTX` is fully configured inside `server(...)` /
/// `client(...)` before the object is published and is never mutated afterwards; the only shared use
/// is `SSL_new`, plus OpenSSL's internal session cache, which OpenSSL locks itself.
public final class TLSContext: @unchecked Sendable {
    private let context: OpaquePointer  // SSL_CTX*, owned
    /// Whether connections made from this context accept (server) or connect (client).
    public let isServer: Bool

    /// TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (ECDSA and RSA certificates).
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    /// TLS 1.3 suites (all AEAD).
    static let tls13Ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    static let groups = "X25519:P-256:P-384"

    private init(taking context: OpaquePointer, isServer: Bool) {
        self.context = context
        self.isServer = isServer
    }

    deinit { SSL_CTX_free(context) }

    /// Server context: TLS 1.2+, ECDHE + AES-GCM/ChaCha20-Poly1305 only, no compression, no
    /// renegotiation, server-side session cache and session tickets on, partial writes and moving
    /// write buffers allowed. `certificateChainFile` is PEM, leaf first; `privateKeyFile` is PEM.
    public static func server(certificateChainFile: String, privateKeyFile: String) throws(TLSError) -> TLSContext {
        let tls = try TLSContext.make(method: TLS_server_method(), isServer: true)
        let ctx = tls.context
        try openssl("SSL_CTX_use_certificate_chain_file(\(certificateChainFile))") {
            SSL_CTX_use_certificate_chain_file(ctx, certificateChainFile)
        }
        try openssl("SSL_CTX_use_PrivateKey_file(\(privateKeyFile))") {
            SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM)
        }
        try openssl("SSL_CTX_check_private_key(\(privateKeyFile) vs \(certificateChainFile))") {
            SSL_CTX_check_private_key(ctx)
        }
        _ = SSL_CTX_set_options(ctx, kitt_SSL_OP_server())
        _ = kitt_SSL_CTX_set_session_cache_mode_server(ctx)
        let sessionContext: [UInt8] = Array("kitt".utf8)
        try openssl("SSL_CTX_set_session_id_context") {
            SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count))
        }
        return tls
    }

    /// Client context that verifies the peer's chain: against the PEM certificates in `caFile` when
    /// given, else against the system trust store. Pass `serverName` to `makeConnection` for the
    /// host name / IP check; without it only the chain is verified.
    public static func client(caFile: String?) throws(TLSError) -> TLSContext {
        let tls = try TLSContext.make(method: TLS_client_method(), isServer: false)
        let ctx = tls.context
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        if let caFile {
            try openssl("SSL_CTX_load_verify_file(\(caFile))") { SSL_CTX_load_verify_file(ctx, caFile) }
        } else {
            try openssl("SSL_CTX_set_default_verify_paths") { SSL_CTX_set_default_verify_paths(ctx) }
        }
        return tls
    }

    /// The settings both ends share.
    private static func make(method: OpaquePointer?, isServer: Bool) throws(TLSError) -> TLSContext {
        let ctx = try openssl("SSL_CTX_new") { SSL_CTX_new(method) }
        let tls = TLSContext(taking: ctx, isServer: isServer)  // owns ctx from here on
        try openssl("SSL_CTX_set_min_proto_version(TLS 1.2)") {
            kitt_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
        }
        _ = SSL_CTX_set_options(ctx, kitt_SSL_OP_common())
        _ = kitt_SSL_CTX_set_mode(ctx, kitt_SSL_MODE_default())
        try openssl("SSL_CTX_set_cipher_list") { SSL_CTX_set_cipher_list(ctx, tls12Ciphers) }
        try openssl("SSL_CTX_set_ciphersuites") { SSL_CTX_set_ciphersuites(ctx, tls13Ciphersuites) }
        try openssl("SSL_CTX_set1_groups_list") { kitt_SSL_CTX_set1_groups_list(ctx, groups) }
        return tls
    }

    /// Wraps a connected, non-blocking socket. The connection never closes `fd`.
    ///
    /// For a client context, `serverName` is sent as SNI (host names only, never IP literals) and
    /// checked against the peer certificate's subjectAltNames (`X509_VERIFY_PARAM_set1_host`, or
    /// `set1_ip_asc` for an IPv4/IPv6 literal, brackets allowed). Server contexts ignore it.
    public func makeConnection(fd: Int32, serverName: String? = nil) throws(TLSError) -> TLSConnection {
        let ctx = context
        let ssl = try openssl("SSL_new") { SSL_new(ctx) }
        let connection = TLSConnection(taking: ssl, context: self)  // owns ssl from here on
        try openssl("SSL_set_fd(\(fd))") { SSL_set_fd(ssl, fd) }
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName { try Self.configurePeerName(serverName, ssl: ssl) }
        }
        return connection
    }

    private static func configurePeerName(_ rawName: String, ssl: OpaquePointer) throws(TLSError) {
        var name = rawName
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        let param = SSL_get0_param(ssl)
        if isIPLiteral(name) {
            try openssl("X509_VERIFY_PARAM_set1_ip_asc(\(name))") { X509_VERIFY_PARAM_set1_ip_asc(param, name) }
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            try openssl("X509_VERIFY_PARAM_set1_host(\(name))") { X509_VERIFY_PARAM_set1_host(param, name, 0) }
            try openssl("SSL_set_tlsext_host_name(\(name))") { kitt_SSL_set_tlsext_host_name(ssl, name) }
        }
    }
}

/// True for a literal IPv4 or IPv6 address (no brackets, no zone).
func isIPLiteral(_ name: String) -> Bool {
    var v4 = in_addr()
    var v6 = in6_addr()
    return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
}

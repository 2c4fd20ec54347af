import COpenSSL
import Glibc

/// Owner of one `X509*` (freed in deinit).
final class X509Certificate {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    /// The first certificate in a PEM file.
    static func load(pemFile path: String) throws(TLSError) -> X509Certificate {
        let bio = try openssl("BIO_new_file(\(path))") { BIO_new_file(path, "r") }
        defer { BIO_free(bio) }
        let x509 = try openssl("PEM_read_bio_X509(\(path))") { PEM_read_bio_X509(bio, nil, nil, nil) }
        return X509Certificate(taking: x509)
    }

    /// PEM text, written through `body` straight from OpenSSL's buffer.
    func withPEM<T>(_ body: (UnsafeRawBufferPointer) throws(TLSError) -> T) throws(TLSError) -> T {
        let x509 = pointer
        return try withMemoryBIO("PEM_write_bio_X509", write: { bio in PEM_write_bio_X509(bio, x509) }, body: body)
    }

    /// SHA-256 of the DER encoding, as `AB:CD:...` (uppercase hex, colon separated).
    func fingerprintSHA256() throws(TLSError) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let x509 = pointer
        try openssl("X509_digest(SHA-256)") { X509_digest(x509, EVP_sha256(), &digest, &length) }
        let hex: [Character] = Array("0123456789ABCDEF")
        return digest.prefix(Int(length)).map { String([hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]]) }
            .joined(separator: ":")
    }

    /// True when the certificate is still valid `margin` seconds from now.
    func isValid(forAnother margin: Int) -> Bool {
        var then = time(nil) + margin
        // X509_cmp_time: -1 when the ASN.1 time is before `then`, 0 on a parse error.
        return X509_cmp_time(X509_get0_notAfter(pointer), &then) > 0
            && X509_cmp_current_time(X509_get0_notBefore(pointer)) < 0
    }

    /// True when a verifying client would accept this certificate for `name` (DNS name or IP
    /// literal) by subjectAltName alone.
    func matches(name: String) -> Bool {
        if isIPLiteral(name) { return X509_check_ip_asc(pointer, name, 0) == 1 }
        return X509_check_host(pointer, name, 0, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT), nil) == 1
    }

    /// True when `issuerKey` signed this certificate.
    func isSigned(by issuerKey: PrivateKey) -> Bool {
        ERR_clear_error()
        defer { ERR_clear_error() }
        return X509_verify(pointer, issuerKey.pointer) == 1
    }

    /// True when `key` is this certificate's private key.
    func matches(key: PrivateKey) -> Bool {
        ERR_clear_error()
        defer { ERR_clear_error() }
        return X509_check_private_key(pointer, key.pointer) == 1
    }
}

/// Owner of one `EVP_PKEY*` (freed in deinit).
final class PrivateKey {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// A fresh EC P-256 key pair.
    static func generateP256() throws(TLSError) -> PrivateKey {
        PrivateKey(taking: try openssl("EVP_EC_gen(P-256)") { kitt_EVP_EC_gen_P256() })
    }

    static func load(pemFile path: String) throws(TLSError) -> PrivateKey {
        let bio = try openssl("BIO_new_file(\(path))") { BIO_new_file(path, "r") }
        defer { BIO_free(bio) }
        return PrivateKey(
            taking: try openssl("PEM_read_bio_PrivateKey(\(path))") {
                PEM_read_bio_PrivateKey(bio, nil, nil, nil)
            })
    }

    /// Unencrypted PKCS#8 PEM, passed to `body` straight from OpenSSL's buffer (no Swift copy).
    func withPEM<T>(_ body: (UnsafeRawBufferPointer) throws(TLSError) -> T) throws(TLSError) -> T {
        let key = pointer
        return try withMemoryBIO(
            "PEM_write_bio_PrivateKey", write: { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) },
            body: body)
    }
}

/// Runs `write` into a memory BIO, then hands its contents to `body`; frees (and so wipes) the BIO.
private func withMemoryBIO<T>(
    _ operation: String, write: (OpaquePointer) -> Int32,
    body: (UnsafeRawBufferPointer) throws(TLSError) -> T
) throws(TLSError) -> T {
    let bio = try openssl("BIO_new(mem)") { BIO_new(BIO_s_mem()) }
    defer { BIO_free(bio) }
    try openssl(operation) { write(bio) }
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = kitt_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { throw TLSError(operation: operation, stack: ["empty output"]) }
    return try body(UnsafeRawBufferPointer(start: data, count: length))
}

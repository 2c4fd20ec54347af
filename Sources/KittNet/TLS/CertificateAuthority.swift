import COpenSSL
import KittBase
import Glibc

/// The files `CertificateAuthority.ensure` manages, and the CA's fingerprint to print at startup.
public struct CertificateBundle: Sendable {
    public let caCertificatePath: String
    public let caKeyPath: String
    public let certificatePath: String
    public let keyPath: String
    /// SHA-256 of the CA certificate (DER), `AB:CD:...` uppercase hex with colons.
    public let caFingerprintSHA256: String
}

/// First-start certificate bootstrap: a local CA and a server certificate it signs, generated in
/// process with the OpenSSL C API (EC P-256, SHA-256). Blocking file I/O: call at startup only.
public enum CertificateAuthority {
    static let caCommonName = "kitt local CA"
    static let organization = "kitt"
    static let caValidityDays = 3650
    static let serverValidityDays = 825
    /// The server certificate is replaced when it expires within this many seconds.
    static let renewalMargin = 7 * 86_400
    /// Always in the server certificate's subjectAltNames.
    static let defaultNames = ["localhost", "127.0.0.1", "::1"]

    /// Makes sure `<directory>/ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem` exist and fit.
    ///
    /// - The directory is created if needed and set to 0700; key files are written 0600 (existing
    ///   ones are tightened to 0600), certificates 0644. Files are written to a temporary name and
    ///   renamed, so a crash never leaves half a file.
    /// - The CA (and then the server certificate) is created when `ca.pem` or `ca-key.pem` is
    ///   missing or the CA has expired. An unreadable CA, or a CA key that does not match, throws:
    ///   a trust anchor people may have installed is never replaced silently.
    /// - The server certificate and key are (re)created when either is missing or unreadable, the
    ///   key does not match, the CA did not sign it, it expires within 7 days, or its SANs lack one
    ///   of `localhost`, `127.0.0.1`, `::1` or `hostNames` (IP literal vs DNS decided per name).
    ///   Its CN is the first of `hostNames` (or "localhost").
    /// - Throws `TLSError` (OpenSSL or file failures, or an invalid host name).
    public static func ensure(directory: String, hostNames: [String]) throws -> CertificateBundle {
        let names = try subjectAltNames(hostNames)
        try makePrivateDirectory(directory)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let caPath = base + "ca.pem"
        let caKeyPath = base + "ca-key.pem"
        let certPath = base + "server.pem"
        let keyPath = base + "server-key.pem"

        var ca: X509Certificate
        var caKey: PrivateKey
        var caIsNew = false
        if fileExists(caPath), fileExists(caKeyPath) {
            ca = try X509Certificate.load(pemFile: caPath)
            caKey = try PrivateKey.load(pemFile: caKeyPath)
            guard ca.matches(key: caKey) else {
                throw TLSError(
                    operation: "CertificateAuthority.ensure", stack: ["\(caKeyPath) does not match \(caPath)"])
            }
            guard chmod(caKeyPath, 0o600) == 0 else { throw TLSError.posix("chmod(\(caKeyPath))") }
        } else {
            (ca, caKey) = try makeCA()
            caIsNew = true
        }
        if !caIsNew, !ca.isValid(forAnother: 0) {
            (ca, caKey) = try makeCA()
            caIsNew = true
        }
        if caIsNew {
            try caKey.withPEM { pem throws(TLSError) in try writeFile(pem, to: caKeyPath, mode: 0o600) }
            try ca.withPEM { pem throws(TLSError) in try writeFile(pem, to: caPath, mode: 0o644) }
        }

        let commonName = hostNames.first.map(normalized) ?? "localhost"
        if caIsNew || !serverCertificateFits(certPath: certPath, keyPath: keyPath, caKey: caKey, names: names) {
            let key = try PrivateKey.generateP256()
            let cert = try makeServerCertificate(commonName: commonName, key: key, names: names, ca: ca, caKey: caKey)
            try key.withPEM { pem throws(TLSError) in try writeFile(pem, to: keyPath, mode: 0o600) }
            try cert.withPEM { pem throws(TLSError) in try writeFile(pem, to: certPath, mode: 0o644) }
        } else {
            guard chmod(keyPath, 0o600) == 0 else { throw TLSError.posix("chmod(\(keyPath))") }
        }
        return CertificateBundle(
            caCertificatePath: caPath, caKeyPath: caKeyPath, certificatePath: certPath, keyPath: keyPath,
            caFingerprintSHA256: try ca.fingerprintSHA256())
    }

    /// SHA-256 fingerprint (`AB:CD:...`) of the first certificate in a PEM file.
    public static func fingerprintSHA256(ofPEMFile path: String) throws -> String {
        try X509Certificate.load(pemFile: path).fingerprintSHA256()
    }

    // MARK: - Checks

    private static func serverCertificateFits(certPath: String, keyPath: String, caKey: PrivateKey, names: [String])
        -> Bool
    {
        guard fileExists(certPath), fileExists(keyPath),
            let cert = try? X509Certificate.load(pemFile: certPath),
            let key = try? PrivateKey.load(pemFile: keyPath)
        else { return false }
        return cert.matches(key: key) && cert.isSigned(by: caKey) && cert.isValid(forAnother: renewalMargin)
            && names.allSatisfy { cert.matches(name: $0) }
    }

    /// Defaults first, then `hostNames`, validated, lowercased, brackets stripped, deduplicated.
    static func subjectAltNames(_ hostNames: [String]) throws(TLSError) -> [String] {
        var result: [String] = []
        for raw in defaultNames + hostNames {
            let name = normalized(raw)
            guard isIPLiteral(name) || isValidDNSName(name) else {
                throw TLSError(operation: "CertificateAuthority.ensure", stack: ["invalid host name \"\(raw)\""])
            }
            if !result.contains(name) { result.append(name) }
        }
        return result
    }

    private static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        return name
    }

    /// Letters, digits, '-' and '_' in dot-separated labels of 1...63; no wildcards.
    private static func isValidDNSName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count) else { return false }
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"):
                    continue
                default: return false
                }
            }
        }
        return true
    }

    // MARK: - Building certificates

    private static func makeCA() throws(TLSError) -> (X509Certificate, PrivateKey) {
        let key = try PrivateKey.generateP256()
        let cert = try newCertificate(commonName: caCommonName, key: key, days: caValidityDays)
        try setIssuer(of: cert, to: cert)
        try addExtensions(
            to: cert, issuer: cert,
            [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        try sign(cert, with: key)
        return (cert, key)
    }

    private static func makeServerCertificate(
        commonName: String, key: PrivateKey, names: [String], ca: X509Certificate, caKey: PrivateKey
    ) throws(TLSError) -> X509Certificate {
        // CN is limited to 64 characters; SANs are what clients check anyway.
        let cert = try newCertificate(
            commonName: commonName.utf8.count <= 64 ? commonName : "localhost", key: key, days: serverValidityDays)
        try setIssuer(of: cert, to: ca)
        try addExtensions(
            to: cert, issuer: ca,
            [
                (NID_basic_constraints, "CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        try addSubjectAltNames(names, to: cert)
        try sign(cert, with: caKey)
        return cert
    }

    /// A v3 certificate with a random 128-bit serial, subject O=kitt/CN=`commonName`, the public
    /// half of `key`, valid from an hour ago for `days` days. Not yet issued, extended or signed.
    private static func newCertificate(commonName: String, key: PrivateKey, days: Int) throws(TLSError)
        -> X509Certificate
    {
        let cert = X509Certificate(taking: try openssl("X509_new") { X509_new() })
        let x509 = cert.pointer
        try openssl("X509_set_version(v3)") { X509_set_version(x509, Int(X509_VERSION_3)) }
        try setRandomSerial(x509)
        _ = try openssl("X509_gmtime_adj(notBefore)") { X509_gmtime_adj(X509_getm_notBefore(x509), -3600) }
        _ = try openssl("X509_gmtime_adj(notAfter)") { X509_gmtime_adj(X509_getm_notAfter(x509), days * 86_400) }
        let subject = try openssl("X509_get_subject_name") { X509_get_subject_name(x509) }
        for (field, value) in [("O", organization), ("CN", commonName)] {
            let bytes = Array(value.utf8)
            try openssl("X509_NAME_add_entry_by_txt(\(field)=\(value))") {
                X509_NAME_add_entry_by_txt(subject, field, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0)
            }
        }
        try openssl("X509_set_pubkey") { X509_set_pubkey(x509, key.pointer) }
        return cert
    }

    private static func setRandomSerial(_ x509: OpaquePointer) throws(TLSError) {
        var bytes = [UInt8](repeating: 0, count: 16)
        try openssl("RAND_bytes") { RAND_bytes(&bytes, Int32(bytes.count)) }
        if bytes.allSatisfy({ $0 == 0 }) { bytes[15] = 1 }  // serials must be positive
        let bignum = try openssl("BN_bin2bn") { BN_bin2bn(bytes, Int32(bytes.count), nil) }
        defer { BN_free(bignum) }
        _ = try openssl("BN_to_ASN1_INTEGER") { BN_to_ASN1_INTEGER(bignum, X509_get_serialNumber(x509)) }
    }

    private static func setIssuer(of cert: X509Certificate, to issuer: X509Certificate) throws(TLSError) {
        try openssl("X509_set_issuer_name") {
            X509_set_issuer_name(cert.pointer, X509_get_subject_name(issuer.pointer))
        }
    }

    /// Adds extensions written in OpenSSL's config syntax (fixed strings only, never user input).
    private static func addExtensions(
        to cert: X509Certificate, issuer: X509Certificate, _ extensions: [(Int32, String)]
    ) throws(TLSError) {
        var v3 = X509V3_CTX()
        X509V3_set_ctx(&v3, issuer.pointer, cert.pointer, nil, nil, 0)
        for (nid, value) in extensions {
            let name = String(cString: OBJ_nid2sn(nid))
            let ext = try openssl("X509V3_EXT_conf_nid(\(name)=\(value))") { X509V3_EXT_conf_nid(nil, &v3, nid, value) }
            defer { X509_EXTENSION_free(ext) }
            try openssl("X509_add_ext(\(name))") { X509_add_ext(cert.pointer, ext, -1) }
        }
    }

    /// subjectAltName built from GENERAL_NAMEs (not config text), so no name can inject syntax.
    private static func addSubjectAltNames(_ names: [String], to cert: X509Certificate) throws(TLSError) {
        let list = try openssl("sk_GENERAL_NAME_new_null") { kitt_sk_GENERAL_NAME_new_null() }
        defer { GENERAL_NAMES_free(list) }
        for name in names {
            let general = try openssl("GENERAL_NAME_new") { GENERAL_NAME_new() }
            if isIPLiteral(name) {
                guard let address = a2i_IPADDRESS(name) else {
                    GENERAL_NAME_free(general)
                    throw TLSError.drain("a2i_IPADDRESS(\(name))")
                }
                GENERAL_NAME_set0_value(general, GEN_IPADD, UnsafeMutableRawPointer(address))
            } else {
                guard let text = ASN1_IA5STRING_new() else {
                    GENERAL_NAME_free(general)
                    throw TLSError.drain("ASN1_IA5STRING_new")
                }
                GENERAL_NAME_set0_value(general, GEN_DNS, UnsafeMutableRawPointer(text))  // owned by general now
                let bytes = Array(name.utf8)
                do {
                    try openssl("ASN1_STRING_set(\(name))") { ASN1_STRING_set(text, bytes, Int32(bytes.count)) }
                } catch {
                    GENERAL_NAME_free(general)
                    throw error
                }
            }
            guard kitt_sk_GENERAL_NAME_push(list, general) > 0 else {
                GENERAL_NAME_free(general)
                throw TLSError.drain("sk_GENERAL_NAME_push")
            }
        }
        try openssl("X509_add1_ext_i2d(subjectAltName)") {
            X509_add1_ext_i2d(
                cert.pointer, NID_subject_alt_name, UnsafeMutableRawPointer(list), 0, UInt(X509V3_ADD_DEFAULT))
        }
    }

    private static func sign(_ cert: X509Certificate, with key: PrivateKey) throws(TLSError) {
        try openssl("X509_sign(SHA-256)") { X509_sign(cert.pointer, key.pointer, EVP_sha256()) }
    }

    // MARK: - Files

    private static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `mkdir -p`, then mode 0700 on the final directory.
    private static func makePrivateDirectory(_ path: String) throws(TLSError) {
        do {
            try Files.makeDirectory(path, mode: 0o700)
        } catch {
            throw TLSError(operation: "mkdir(\(path))", stack: ["\(error)"])
        }
        guard chmod(path, 0o700) == 0 else { throw TLSError.posix("chmod(\(path))") }
    }

    /// `Files.writeAtomically` (temp file created with `mode`, fsync, rename, fsync of the folder).
    static func writeFile(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t) throws(TLSError) {
        do {
            try Files.writeAtomically(bytes, to: path, mode: mode)
        } catch {
            throw TLSError.posix(error.call, errno: error.errno)
        }
    }
}

import Foundation
import Glibc
import KittTestSupport
import Testing

@testable import KittNet

@Suite(.serialized)
struct TLSCertificateTests {
    typealias Support = TLSTestSupport
    static let openssl = "/usr/bin/openssl"

    @Test func createsFilesWithPrivatePermissions() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        #expect(bundle.caCertificatePath == directory + "/ca.pem")
        #expect(bundle.caKeyPath == directory + "/ca-key.pem")
        #expect(bundle.certificatePath == directory + "/server.pem")
        #expect(bundle.keyPath == directory + "/server-key.pem")
        #expect(Support.fileMode(directory) == 0o700)
        #expect(Support.fileMode(bundle.caKeyPath) == 0o600)
        #expect(Support.fileMode(bundle.keyPath) == 0o600)
        #expect(Support.fileMode(bundle.caCertificatePath) == 0o644)
        #expect(Support.fileMode(bundle.certificatePath) == 0o644)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(leftovers == ["ca-key.pem", "ca.pem", "server-key.pem", "server.pem"])
        let key = try String(contentsOfFile: bundle.keyPath, encoding: .utf8)
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func secondCallReusesEverything() throws {
        let (directory, first) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let serverPEM = try Data(contentsOf: URL(fileURLWithPath: first.certificatePath))
        let caKeyPEM = try Data(contentsOf: URL(fileURLWithPath: first.caKeyPath))
        chmod(first.keyPath, 0o644)  // loosened by someone: tightened again on reuse
        let second = try CertificateAuthority.ensure(directory: directory, hostNames: ["kitt.test"])
        #expect(second.caFingerprintSHA256 == first.caFingerprintSHA256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.certificatePath)) == serverPEM)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.caKeyPath)) == caKeyPEM)
        #expect(Support.fileMode(second.keyPath) == 0o600)
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)")) func fingerprintMatchesOpenSSLCommandLine() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let fingerprint = bundle.caFingerprintSHA256
        #expect(fingerprint.count == 32 * 3 - 1)
        #expect(fingerprint.allSatisfy { "0123456789ABCDEF:".contains($0) })
        #expect(try CertificateAuthority.fingerprintSHA256(ofPEMFile: bundle.caCertificatePath) == fingerprint)
        #expect(try CertificateAuthority.fingerprintSHA256(ofPEMFile: bundle.certificatePath) != fingerprint)
        let result = try Support.run(
            Self.openssl, ["x509", "-noout", "-fingerprint", "-sha256", "-in", bundle.caCertificatePath])
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "sha256 Fingerprint=\(fingerprint)")
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)")) func chainPassesStrictVerification() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let result = try Support.run(
            Self.openssl,
            [
                "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", bundle.caCertificatePath,
                bundle.certificatePath,
            ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("server.pem: OK"))
        // ...and the check can fail: the leaf does not verify against another CA.
        let (otherDirectory, other) = try Support.makeBundle()
        defer { Support.removeBundle(otherDirectory) }
        let wrong = try Support.run(
            Self.openssl, ["verify", "-x509_strict", "-CAfile", other.caCertificatePath, bundle.certificatePath])
        #expect(wrong.status != 0)
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)")) func serverCertificateHasSANsAndExtensions() throws {
        let (directory, bundle) = try Support.makeBundle(hostNames: ["Kitt.Test", "10.1.2.3", "[fd00::7]", "gpu-box"])
        defer { Support.removeBundle(directory) }
        let text = try Support.run(Self.openssl, ["x509", "-noout", "-text", "-in", bundle.certificatePath]).output
        for needle in [
            "Version: 3 (0x2)", "ecdsa-with-SHA256", "prime256v1",
            "Issuer: O = kitt, CN = kitt local CA", "Subject: O = kitt, CN = kitt.test",
            "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:kitt.test, IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:7, DNS:gpu-box",
            "X509v3 Basic Constraints: \n                CA:FALSE",
            "X509v3 Key Usage: critical\n                Digital Signature",
            "X509v3 Extended Key Usage: \n                TLS Web Server Authentication",
            "X509v3 Subject Key Identifier:", "X509v3 Authority Key Identifier:",
        ] {
            #expect(text.contains(needle), "server.pem lacks \(needle)")
        }
        let caText = try Support.run(Self.openssl, ["x509", "-noout", "-text", "-in", bundle.caCertificatePath]).output
        for needle in [
            "Subject: O = kitt, CN = kitt local CA", "ecdsa-with-SHA256", "prime256v1",
            "X509v3 Basic Constraints: critical\n                CA:TRUE",
            "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
            "X509v3 Subject Key Identifier:",
        ] {
            #expect(caText.contains(needle), "ca.pem lacks \(needle)")
        }
        // Serials: random, 128 bits (printed as up to 17 bytes with a leading 00).
        let serial = try Support.run(Self.openssl, ["x509", "-noout", "-serial", "-in", bundle.certificatePath]).output
        let caSerial = try Support.run(Self.openssl, ["x509", "-noout", "-serial", "-in", bundle.caCertificatePath])
            .output
        #expect(serial != caSerial)
        #expect(serial.trimmingCharacters(in: .whitespacesAndNewlines).count >= "serial=".count + 30)
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)"), arguments: [
        ("ca.pem", 3649, 3651),
        ("server.pem", 824, 826),
    ])
    func validityPeriods(file: String, atLeastDays: Int, atMostDays: Int) throws {
        let (directory, _) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let path = directory + "/" + file
        // -checkend N exits 0 when the certificate is still valid N seconds from now.
        let stillValid = try Support.run(
            Self.openssl, ["x509", "-noout", "-in", path, "-checkend", "\(atLeastDays * 86_400)"])
        let expired = try Support.run(
            Self.openssl, ["x509", "-noout", "-in", path, "-checkend", "\(atMostDays * 86_400)"])
        #expect(stillValid.status == 0)
        #expect(expired.status == 1)
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)")) func regeneratesServerCertificateWhenNeeded() throws {
        let (directory, first) = try Support.makeBundle(hostNames: ["kitt.test"])
        defer { Support.removeBundle(directory) }
        let original = try Data(contentsOf: URL(fileURLWithPath: first.certificatePath))

        // A new name: new server certificate, same CA.
        let widened = try CertificateAuthority.ensure(directory: directory, hostNames: ["kitt.test", "other.example"])
        #expect(widened.caFingerprintSHA256 == first.caFingerprintSHA256)
        let widenedPEM = try Data(contentsOf: URL(fileURLWithPath: widened.certificatePath))
        #expect(widenedPEM != original)
        let text = try Support.run(
            Self.openssl, ["x509", "-noout", "-ext", "subjectAltName", "-in", widened.certificatePath]
        ).output
        #expect(text.contains("DNS:other.example"))

        // A subset of the names (and different case): reused.
        _ = try CertificateAuthority.ensure(directory: directory, hostNames: ["OTHER.example"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: widened.certificatePath)) == widenedPEM)

        // Server certificate deleted: recreated, still signed by the same CA.
        unlink(widened.certificatePath)
        let recreated = try CertificateAuthority.ensure(directory: directory, hostNames: ["kitt.test"])
        #expect(recreated.caFingerprintSHA256 == first.caFingerprintSHA256)
        let verify = try Support.run(
            Self.openssl, ["verify", "-x509_strict", "-CAfile", recreated.caCertificatePath, recreated.certificatePath])
        #expect(verify.status == 0, "\(verify.output)")

        // Server key replaced by a foreign key: certificate and key recreated as a pair.
        let (otherDirectory, other) = try Support.makeBundle()
        defer { Support.removeBundle(otherDirectory) }
        let foreignKey = try Data(contentsOf: URL(fileURLWithPath: other.keyPath))
        try foreignKey.write(to: URL(fileURLWithPath: recreated.keyPath))
        _ = try CertificateAuthority.ensure(directory: directory, hostNames: ["kitt.test"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: recreated.keyPath)) != foreignKey)
        _ = try TLSContext.server(certificateChainFile: recreated.certificatePath, privateKeyFile: recreated.keyPath)

        // CA missing: everything recreated with a new CA.
        unlink(first.caCertificatePath)
        let fresh = try CertificateAuthority.ensure(directory: directory, hostNames: ["kitt.test"])
        #expect(fresh.caFingerprintSHA256 != first.caFingerprintSHA256)
        let freshVerify = try Support.run(
            Self.openssl, ["verify", "-x509_strict", "-CAfile", fresh.caCertificatePath, fresh.certificatePath])
        #expect(freshVerify.status == 0, "\(freshVerify.output)")
    }

    @Test func refusesACAKeyThatDoesNotMatch() throws {
        let (directory, bundle) = try Support.makeBundle()
        defer { Support.removeBundle(directory) }
        let (otherDirectory, other) = try Support.makeBundle()
        defer { Support.removeBundle(otherDirectory) }
        try Data(contentsOf: URL(fileURLWithPath: other.caKeyPath)).write(to: URL(fileURLWithPath: bundle.caKeyPath))
        #expect(throws: TLSError.self) { try CertificateAuthority.ensure(directory: directory, hostNames: []) }
    }

    @Test(arguments: ["", "bad name", "*.wild.example", "a..b", "naïve.example", "x,DNS:evil"])
    func rejectsInvalidHostNames(name: String) throws {
        let directory = Support.temporaryDirectory()
        defer { Support.removeDirectory(directory) }
        #expect(throws: TLSError.self) {
            try CertificateAuthority.ensure(directory: directory + "/certs", hostNames: [name])
        }
    }

    @Test(.enabled(if: InstalledTool.exists("/usr/bin/openssl"), "openssl is not installed (Debian: openssl; .ci/run installs it)")) func defaultsAreAlwaysPresent() throws {
        let names = try CertificateAuthority.subjectAltNames([])
        #expect(names == ["localhost", "127.0.0.1", "::1"])
        let (directory, bundle) = try Support.makeBundle(hostNames: [])
        defer { Support.removeBundle(directory) }
        let text = try Support.run(Self.openssl, ["x509", "-noout", "-subject", "-in", bundle.certificatePath]).output
        #expect(text.contains("CN = localhost"))
    }
}

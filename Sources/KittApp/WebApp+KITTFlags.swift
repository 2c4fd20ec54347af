#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittAPI
import KittBase
import KittStore

/// KITT 1.x's `kitt web` flags (SPEC §7.1): `--tls-ca`, `--results-dir`, `--debug`.
extension WebApp {
    /// The PEM install.sh embeds as agents' trust anchor when `--tls-ca` is given (with
    /// `--tls-cert`): the file must hold a certificate.
    static func givenTrustAnchor(_ options: WebOptions) throws -> String? {
        guard let path = options.tlsCA else { return nil }
        guard let pem = Files.readText(path), pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw FileError("--tls-ca \(path): not a readable PEM certificate file")
        }
        return pem
    }

    /// `--legacy --results-dir DIR`: the dashboard's runs from the files under DIR, read now
    /// (before serving) and refreshed in the background afterwards.
    static func legacyResultsDirectory(_ options: WebOptions, log: Log) throws -> LegacyResultsDirectory? {
        guard options.legacy, let root = options.resultsDirectory else { return nil }
        try requireDirectory(root)
        let verbose = options.debug
        let directory = LegacyResultsDirectory(root: root, log: { line in if verbose { log.line("debug: " + line) } })
        let loaded = directory.load()
        log.line("Results: \(loaded.results) from \(root) (read directly; \(loaded.skipped) file(s) left out)")
        return directory
    }

    /// `--results-dir DIR` without `--legacy`: KITT's web mode served results from DIR; kitt
    /// serves its store, so DIR is imported into it in the background (files already there are
    /// skipped; new files arrive with the next start or `kitt import DIR`). The returned group
    /// finishes with the import.
    static func importResultsDirectory(_ options: WebOptions, store: any DataStore, log: Log) -> DispatchGroup? {
        guard !options.legacy, let root = options.resultsDirectory else { return nil }
        let group = DispatchGroup()
        DispatchQueue(label: "kitt.results-dir.import").async(group: group) {
            let report = ResultImporter.run(directory: root, store: store)
            log.line("Results from \(root): \(report.summary)")
            if let error = report.error { printError("kitt web: --results-dir \(root): \(error)") }
        }
        return group
    }

    /// Fails the start (before anything listens) when `--results-dir` cannot be read.
    static func checkResultsDirectory(_ options: WebOptions) throws {
        if let root = options.resultsDirectory { try requireDirectory(root) }
    }

    private static func requireDirectory(_ path: String) throws {
        guard let handle = opendir(path) else {
            throw FileError("--results-dir \(path): cannot read directory: \(String(cString: strerror(errno)))")
        }
        closedir(handle)
    }

    /// `--debug`: what this server runs with, at start.
    static func debugLines(_ options: WebOptions, dataDirectory: String, settings: APISettings) -> [String] {
        [
            "debug: database \(options.databasePath ?? dataDirectory + "/kitt.db")",
            "debug: config dir \(settings.configDirectory), model dir \(settings.modelDirectory)",
            "debug: devon \(settings.devonURL ?? "not configured"), public URL \(settings.publicURL)",
            "debug: results dir \(options.resultsDirectory ?? "none")\(options.legacy ? " (legacy: read directly)" : "")",
            "debug: TLS \(options.insecure || options.legacy ? "off" : options.tlsCertificate ?? "local CA")"
                + (options.tlsCA.map { ", agents trust \($0)" } ?? ""),
            "debug: limits head \(options.maxHeadBytes) B, body \(options.maxBodyBytes) B, connections "
                + "\(options.maxConnections), header timeout \(options.headerTimeout) s, idle \(options.idleTimeout) s",
        ]
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KittHTTP
import KittNet
import KittSQLite
import KittStore
import Synchronization

/// What `/metrics` reads besides the store: the HTTP server's counters (attached once it
/// exists: the router is built before the server) and when the process started.
public final class MetricsSource: Sendable {
    private let server = Mutex<HTTPServer?>(nil)
    let startedAt: Double
    private let startedUptime = DispatchTime.now().uptimeNanoseconds

    public init() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        startedAt = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    public func attach(_ server: HTTPServer) { self.server.withLock { $0 = server } }

    /// A gauge read at each scrape, from parts outside the API (the PostgreSQL instance's
    /// campaign lease and event relay). `read` must be quick: it runs on the scrape's queue.
    public struct Gauge: Sendable {
        let name: String
        let help: String
        let read: @Sendable () -> Double
    }
    private let extraGauges = Mutex<[Gauge]>([])

    public func addGauge(_ name: String, help: String, read: @escaping @Sendable () -> Double) {
        extraGauges.withLock { $0.append(Gauge(name: name, help: help, read: read)) }
    }

    var gauges: [Gauge] { extraGauges.withLock { $0 } }

    var attached: HTTPServer? { server.withLock { $0 } }
    var uptimeSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds &- startedUptime) / 1e9 }
}

/// `GET /metrics` (SPEC §7.3): Prometheus text. The request counters are summed from the event
/// loops' own slots and the status gauges come from one read snapshot, all on a private queue
/// (`.deferred`), so a scrape never blocks a loop and requests never take a lock for it.
enum MetricsRoutes {
    private static let queue = DispatchQueue(label: "kitt.metrics")

    /// Always listed (0 when none), in this order; other statuses found follow, sorted.
    static let agentStatuses = AgentStatus.known.filter { $0 != .provisioned }

    static func register(in router: inout Router, context: APIContext) {
        router.get("/metrics") { request in
            try requireMetricsToken(request, token: context.settings.metricsToken)
            return ModelsRoutes.deferred(on: queue) { () throws(HTTPError) in
                .text(render(context: context), contentType: MetricsText.contentType)
            }
        }
    }

    /// `--metrics-token`: no bearer → 401, another one → 403 (the admin token does not open it:
    /// a scraper's credential should not be able to write).
    static func requireMetricsToken(_ request: HTTPRequest, token: String?) throws(HTTPError) {
        guard let token else { return }
        guard let given = try Auth.bearerToken(of: request) else { throw HTTPError.unauthorized() }
        guard Auth.constantTimeEquals(given, token) else { throw HTTPError.forbidden() }
    }

    static func render(context: APIContext) -> String {
        var out = MetricsText()
        let source = context.metrics
        out.family("kitt_build_info", "gauge", "The running kitt version.")
        out.sample("kitt_build_info", [("version", context.settings.version)], 1)
        if let server = source.attached {
            renderServer(server, into: &out)
        }
        out.family("kitt_sse_subscribers", "gauge", "Open event streams (GET /api/v1/events).")
        out.sample("kitt_sse_subscribers", [], context.events.subscriberCount)
        renderStore(context: context, into: &out)
        for gauge in source.gauges {
            out.family(gauge.name, "gauge", gauge.help)
            out.sample(gauge.name, [], gauge.read())
        }
        renderProcess(source, into: &out)
        return out.text
    }

    private static func renderServer(_ server: HTTPServer, into out: inout MetricsText) {
        let snapshot = server.metrics.snapshot()
        out.family("kitt_http_requests_total", "counter", "Answered requests by route pattern, method and status code.")
        for row in snapshot.requests {
            out.sample(
                "kitt_http_requests_total", [("route", row.route), ("method", row.method), ("code", row.status)],
                row.count)
        }
        out.family("kitt_http_request_duration_seconds", "histogram", "Time from a parsed request to its answer, by route pattern.")
        for histogram in snapshot.durations where (histogram.cumulativeCounts.last ?? 0) > 0 {
            out.histogram(
                "kitt_http_request_duration_seconds", [("route", histogram.route)], bounds: ServerMetrics.durationBuckets,
                cumulativeCounts: histogram.cumulativeCounts, sum: histogram.sumSeconds)
        }
        out.family("kitt_http_open_connections", "gauge", "Client connections open now, by transport.")
        out.sample("kitt_http_open_connections", [("transport", "plain")], server.isTLS ? 0 : server.connectionCount)
        out.sample("kitt_http_open_connections", [("transport", "tls")], server.isTLS ? server.connectionCount : 0)
        out.family("kitt_http_connections_accepted_total", "counter", "Connections accepted.")
        out.sample("kitt_http_connections_accepted_total", [], snapshot.connectionsAccepted)
        out.family("kitt_http_connections_rejected_total", "counter", "Connections closed at once: --max-connections reached.")
        out.sample("kitt_http_connections_rejected_total", [], snapshot.connectionsRejected)
        out.family("kitt_tls_handshakes_total", "counter", "TLS handshakes completed.")
        out.sample("kitt_tls_handshakes_total", [], snapshot.tlsHandshakes)
        out.family("kitt_tls_handshake_failures_total", "counter", "TLS handshakes that failed or timed out.")
        out.sample("kitt_tls_handshake_failures_total", [], snapshot.tlsHandshakeFailures)
        out.family("kitt_sse_dropped_total", "counter", "Event streams dropped because the client read too slowly.")
        out.sample("kitt_sse_dropped_total", [], snapshot.streamDrops)
    }

    private static func renderStore(context: APIContext, into out: inout MetricsText) {
        out.family("kitt_store_info", "gauge", "The store's backend (always 1).")
        out.sample("kitt_store_info", [("backend", context.store.backendName)], 1)
        // Group commit is SQLite's (one writer); PostgreSQL commits per request.
        if let database = (context.store as? Store)?.database {
            out.family("kitt_store_write_batches_total", "counter", "Group-commit transactions committed.")
            out.sample("kitt_store_write_batches_total", [], database.committedBatchCount)
            out.family(
                "kitt_store_write_batches_redone_total", "counter",
                "Group-commit transactions run again with a savepoint per write (a write failed after changing rows).")
            out.sample("kitt_store_write_batches_redone_total", [], database.redoneBatchCount)
            let commits = database.commitLatency.snapshot()
            out.family(
                "kitt_store_commit_duration_seconds", "histogram", "Time a group commit's COMMIT (and fsync) took.")
            out.histogram(
                "kitt_store_commit_duration_seconds", [], bounds: CommitLatency.buckets,
                cumulativeCounts: commits.cumulativeCounts, sum: commits.sumSeconds)
        }
        guard
            let counts = try? context.store.statusCounts(
                offlineCutoff: OfflineRule.cutoff(context.settings.agentOfflineAfterSeconds))
        else { return }
        func byStatus<Status: StoredStatus>(_ name: String, _ help: String, _ known: [Status], _ values: [Status: Int])
        {
            out.family(name, "gauge", help)
            let others = values.keys.filter { !known.contains($0) }.sorted { $0.rawValue < $1.rawValue }
            for status in known + others {
                out.sample(name, [("status", status.rawValue)], values[status] ?? 0)
            }
        }
        byStatus("kitt_agents", "Agents by status (offline: no heartbeat within --agent-offline-after).", agentStatuses, counts.agents)
        byStatus("kitt_quick_tests", "Quick tests by status.", QuickTestStatus.known, counts.quickTests)
        byStatus("kitt_campaigns", "Campaigns by status.", CampaignStatus.known, counts.campaigns)
        out.family("kitt_results_stored", "gauge", "Results (metrics.json documents) in the store.")
        out.sample("kitt_results_stored", [], counts.results)
    }

    private static func renderProcess(_ source: MetricsSource, into out: inout MetricsText) {
        if let rss = ProcessStats.residentBytes() {
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
            out.sample("process_resident_memory_bytes", [], rss)
        }
        if let fds = ProcessStats.openDescriptors() {
            out.family("process_open_fds", "gauge", "Open file descriptors.")
            out.sample("process_open_fds", [], fds)
        }
        if let limit = ProcessStats.maxDescriptors() {
            out.family("process_max_fds", "gauge", "Maximum number of open file descriptors.")
            out.sample("process_max_fds", [], limit)
        }
        out.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.")
        out.sample("process_start_time_seconds", [], source.startedAt)
        out.family("kitt_uptime_seconds", "gauge", "Seconds since kitt started.")
        out.sample("kitt_uptime_seconds", [], source.uptimeSeconds)
    }
}

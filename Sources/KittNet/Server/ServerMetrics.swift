import CKittSystem
import KittHTTP
import Synchronization

/// The server's request metrics, without a lock on the request path: each event loop owns one
/// `LoopCounters` (only its thread adds to it, with relaxed atomics, so no cache line is shared
/// between loops) and a scrape sums the slots of every loop.
///
/// Labels are bounded by construction: the route is the matched *pattern* (an index into the
/// router's list; anything unmatched is one `unmatched` label), the method one of a fixed list,
/// the status one of a fixed list of codes (others count as `other`).
public final class ServerMetrics: Sendable {
    public static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"]
    public static let statuses = [
        100, 101, 200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 406, 408, 409, 411, 413, 414,
        415, 416, 422, 429, 431, 500, 501, 502, 503, 504, 505,
    ]
    /// Upper bounds (seconds) of the request duration histogram buckets (`+Inf` follows).
    public static let durationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    /// The label of requests no route matched (404s, parse errors).
    public static let unmatchedRoute = "unmatched"

    /// Route labels: the router's patterns, then `unmatched`.
    public let routes: [String]
    let loops: [LoopCounters]
    let layout: Layout
    /// Rare events counted off the loops (accept queue, publishers): plain shared atomics.
    let accepted = Atomic<UInt64>(0)
    let rejectedAtCapacity = Atomic<UInt64>(0)
    let streamDrops = Atomic<UInt64>(0)

    init(loopCount: Int, routePatterns: [String]) {
        routes = routePatterns + [ServerMetrics.unmatchedRoute]
        let layout = Layout(routes: routePatterns.count + 1)
        self.layout = layout
        loops = (0..<loopCount).map { _ in LoopCounters(size: layout.size) }
    }

    /// Where each counter lives in a loop's slot array.
    struct Layout: Sendable {
        let routes: Int
        static let methods = ServerMetrics.methods.count
        static let statuses = ServerMetrics.statuses.count + 1  // + other
        static let histogram = ServerMetrics.durationBuckets.count + 2  // + Inf bucket, sum (ns)

        var requestsBase: Int { 0 }
        var histogramBase: Int { routes * Layout.methods * Layout.statuses }
        var handshakes: Int { histogramBase + routes * Layout.histogram }
        var handshakeFailures: Int { handshakes + 1 }
        var size: Int { handshakeFailures + 1 }

        func request(route: Int, method: Int, status: Int) -> Int {
            (route * Layout.methods + method) * Layout.statuses + status
        }
        func histogram(route: Int, bucket: Int) -> Int { histogramBase + route * Layout.histogram + bucket }
    }

    static func methodIndex(_ method: HTTPMethod) -> Int {
        switch method.rawValue {
        case "GET": 0
        case "HEAD": 1
        case "POST": 2
        case "PUT": 3
        case "PATCH": 4
        case "DELETE": 5
        case "OPTIONS": 6
        default: 7
        }
    }

    static func statusIndex(_ code: Int) -> Int {
        statuses.firstIndex(of: code) ?? statuses.count
    }

    /// On the loop's thread: one answered request.
    func recordRequest(loop: Int, route: Int?, method: HTTPMethod, status: Int, nanoseconds: UInt64) {
        guard loop >= 0, loop < loops.count else { return }
        let counters = loops[loop]
        let routeIndex = route.map { $0 >= 0 && $0 < routes.count - 1 ? $0 : routes.count - 1 } ?? routes.count - 1
        counters.add(layout.request(route: routeIndex, method: ServerMetrics.methodIndex(method), status: ServerMetrics.statusIndex(status)))
        let seconds = Double(nanoseconds) / 1e9
        let bucket = ServerMetrics.durationBuckets.firstIndex { seconds <= $0 } ?? ServerMetrics.durationBuckets.count
        counters.add(layout.histogram(route: routeIndex, bucket: bucket))
        counters.add(layout.histogram(route: routeIndex, bucket: Layout.histogram - 1), nanoseconds)
    }

    func recordHandshake(loop: Int, succeeded: Bool) {
        guard loop >= 0, loop < loops.count else { return }
        loops[loop].add(succeeded ? layout.handshakes : layout.handshakeFailures)
    }

    /// Sums every loop's slots (the scrape; it never blocks a loop).
    public func snapshot() -> Snapshot {
        var sums = [UInt64](repeating: 0, count: layout.size)
        for loop in loops {
            for index in 0..<layout.size { sums[index] &+= loop.load(index) }
        }
        var requests: [Snapshot.RequestCount] = []
        var durations: [Snapshot.Histogram] = []
        for route in 0..<routes.count {
            for method in 0..<Layout.methods {
                for status in 0..<Layout.statuses {
                    let count = sums[layout.request(route: route, method: method, status: status)]
                    guard count > 0 else { continue }
                    let code = status < ServerMetrics.statuses.count ? String(ServerMetrics.statuses[status]) : "other"
                    requests.append(.init(route: routes[route], method: ServerMetrics.methods[method], status: code, count: count))
                }
            }
            var cumulative: UInt64 = 0
            var buckets: [UInt64] = []
            for bucket in 0...ServerMetrics.durationBuckets.count {
                cumulative &+= sums[layout.histogram(route: route, bucket: bucket)]
                buckets.append(cumulative)
            }
            let sum = Double(sums[layout.histogram(route: route, bucket: Layout.histogram - 1)]) / 1e9
            durations.append(.init(route: routes[route], cumulativeCounts: buckets, sumSeconds: sum))
        }
        return Snapshot(
            requests: requests, durations: durations,
            tlsHandshakes: sums[layout.handshakes], tlsHandshakeFailures: sums[layout.handshakeFailures],
            connectionsAccepted: accepted.load(ordering: .relaxed),
            connectionsRejected: rejectedAtCapacity.load(ordering: .relaxed),
            streamDrops: streamDrops.load(ordering: .relaxed))
    }

    public struct Snapshot: Sendable {
        public struct RequestCount: Sendable {
            public let route: String
            public let method: String
            public let status: String
            public let count: UInt64
        }
        public struct Histogram: Sendable {
            public let route: String
            /// One per `durationBuckets` bound, then `+Inf` (the total count).
            public let cumulativeCounts: [UInt64]
            public let sumSeconds: Double
        }
        public let requests: [RequestCount]
        public let durations: [Histogram]
        public let tlsHandshakes: UInt64
        public let tlsHandshakeFailures: UInt64
        public let connectionsAccepted: UInt64
        public let connectionsRejected: UInt64
        public let streamDrops: UInt64
    }
}

/// One loop's counters: written only by that loop's thread, read by scrapes (relaxed atomics).
final class LoopCounters: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<UInt64>
    private let count: Int

    init(size: Int) {
        count = size
        slots = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
    }

    deinit { slots.deallocate() }

    func add(_ index: Int, _ value: UInt64 = 1) {
        guard index >= 0, index < count else { return }
        kitt_counter_add(slots + index, value)
    }

    func load(_ index: Int) -> UInt64 {
        guard index >= 0, index < count else { return 0 }
        return kitt_counter_load(slots + index)
    }
}

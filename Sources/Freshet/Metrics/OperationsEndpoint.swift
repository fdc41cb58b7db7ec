import ColumnStore
import Foundation
import PostgresReplication

/// The operations surface of a running replicator: the slot monitor (always) and, unless `metricsAddress` is nil,
/// the HTTP endpoint with the status page at `/`, `/metrics`, `/healthz` and `/status`. Started before setup (so a busy address fails before
/// anything is created on the source), given the store once it is open, stopped on exit.
public final class OperationsEndpoint: @unchecked Sendable {
    private let config: Config
    private let stats: ReplicatorStats
    private let lock = NSLock()
    private var store: Store?
    private let monitor: SlotMonitor
    private let server: HTTPServer?

    /// The bound `host:port` of the HTTP endpoint (nil when off).
    public var address: String? { server?.boundAddress }

    /// Starts the slot monitor and binds the HTTP endpoint; logs `metrics.listening address=...`.
    /// Throws `HTTPServerError` when the configured address cannot be bound.
    public static func start(config: Config, settings: ConnectionSettings, stats: ReplicatorStats,
                             logger: Logger) throws -> OperationsEndpoint {
        let monitor = SlotMonitor(settings: settings, slot: config.slot, warnBytes: config.slotWarnBytes, logger: logger, stats: stats)
        let endpoint = OperationsEndpoint(config: config, stats: stats, monitor: monitor,
                                          server: config.metricsAddress == nil ? nil : HTTPServer())
        if let address = config.metricsAddress, let server = endpoint.server {
            try server.start(address: address) { [weak endpoint] request in
                endpoint?.respond(request) ?? .text(503, "stopping")
            }
            logger.info("metrics.listening", ["address": server.boundAddress])
        }
        monitor.start()
        return endpoint
    }

    private init(config: Config, stats: ReplicatorStats, monitor: SlotMonitor, server: HTTPServer?) {
        self.config = config; self.stats = stats; self.monitor = monitor; self.server = server
    }

    /// The opened store: its manifests give the per-table parts, rows and bytes.
    public func attach(store: Store) {
        lock.lock(); self.store = store; lock.unlock()
    }

    public func stop() {
        server?.stop()
        monitor.stop()
    }

    /// The current snapshot of everything shown.
    public func snapshot() -> OperationsSnapshot {
        lock.lock(); let store = self.store; lock.unlock()
        return OperationsSnapshot.capture(config: config, stats: stats, store: store, slotMonitor: monitor)
    }

    /// Routes one request.
    func respond(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            return HTTPResponse(status: 200, contentType: PrometheusText.contentType,
                                body: Data(PrometheusText.render(FreshetMetrics.families(snapshot())).utf8))
        case "/healthz":
            let verdict = HealthCheck.evaluate(snapshot())
            return .text(verdict.healthy ? 200 : 503, verdict.reason)
        case "/status":
            do {
                return HTTPResponse(status: 200, contentType: "application/json", body: try StatusReport(snapshot()).json())
            } catch {
                return .text(500, "status: \(error)")
            }
        case "/", "/index.html":
            return HTTPResponse(status: 200, contentType: StatusPage.contentType,
                                body: Data(StatusPage.render(StatusReport(snapshot())).utf8))
        default:
            return .text(404, "not found: \(request.path) (try /metrics, /healthz, /status)")
        }
    }
}

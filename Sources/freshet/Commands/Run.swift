import Dispatch
import Foundation
import Freshet

/// `freshet run`: replicate the source into the store until SIGINT / SIGTERM.
enum RunCommand {
    static let usage = """
    usage: freshet run [--config FILE] [--source URL] [--store DIR] [--slot NAME] [--publication NAME]
                       [--schema NAME]... [--table SCHEMA.TABLE]... [--exclude SCHEMA.TABLE]...
                       [--max-age-ms N] [--max-rows N] [--heartbeat-seconds N] [--metrics HOST:PORT|off]
                       [--log-format text|json]
      Environment: FRESHET_SOURCE (source URL), FRESHET_STORE (store directory).
      SIGINT / SIGTERM commit what is pending, confirm it to PostgreSQL and exit 0.
    """

    static func run(_ args: [String]) throws -> Int32 {
        var a = ArgumentList(args)
        var fileConfig: Data = Data("{}".utf8)
        if let path = try a.value("--config") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError("cannot read config file \(path)")
            }
            fileConfig = data
        }
        var config = try Config.parse(json: fileConfig, environment: overlayEnvironment(&a))
        if let v = try a.value("--slot") { config.slot = v }
        if let v = try a.value("--publication") { config.publication = v }
        let schemas = try a.values("--schema"); if !schemas.isEmpty { config.schemas = schemas }
        let tables = try a.values("--table"); if !tables.isEmpty { config.tables = tables }
        let exclude = try a.values("--exclude"); if !exclude.isEmpty { config.exclude = exclude }
        if let v = try a.int("--max-age-ms") { config.batch.maxAge = Double(v) / 1000 }
        if let v = try a.int("--max-rows") { config.batch.maxRows = v }
        if let v = try a.int("--heartbeat-seconds") { config.heartbeatInterval = Double(v) }
        if let v = try a.value("--metrics") { config.metricsAddress = v == "off" ? nil : v }
        if let v = try a.value("--log-format") {
            guard let f = Config.LogFormat(rawValue: v) else { throw UsageError("--log-format must be text or json") }
            config.logFormat = f
        }
        try a.finish(usage: usage)

        let logger = Logger(format: config.logFormat)
        let replicator = try Replicator(config: config, logger: logger)
        logger.info("freshet.start", ["source": config.redactedSource, "store": config.store, "slot": config.slot,
                                      "publication": config.publication])
        let signals = SignalTrap([SIGINT, SIGTERM]) { signal in
            logger.info("freshet.signal", ["signal": signal == SIGINT ? "SIGINT" : "SIGTERM"])
            replicator.requestStop()
        }
        defer { signals.cancel() }
        try replicator.run()
        logger.info("freshet.exit", ["committed_lsn": replicator.stats.committedLSN])
        return 0
    }

    /// `--source` / `--store` flags become the environment variables the config falls back to.
    private static func overlayEnvironment(_ a: inout ArgumentList) throws -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let v = try a.value("--source") { env["FRESHET_SOURCE"] = v }
        if let v = try a.value("--store") { env["FRESHET_STORE"] = v }
        return env
    }
}

/// Runs `handler` on a background queue when one of `signals` arrives (the default action is disabled).
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for s in signals {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler { handler(s) }
            source.resume()
            sources.append(source)
        }
    }
    func cancel() { sources.forEach { $0.cancel() } }
}

import Dispatch
import Foundation
import Freshet
import PostgresReplication

/// `freshet run`: replicate the source into the store until SIGINT / SIGTERM.
enum RunCommand: FreshetCommand {
    static let name = "run"
    static let summary = "replicate PostgreSQL into the store until SIGINT / SIGTERM"
    static let usage = """
    freshet run [--config FILE] [--source URL] [--store DIR] [--slot NAME] [--publication NAME] \
                [--schema NAME]... [--table SCHEMA.TABLE]... [--exclude SCHEMA.TABLE]... [--max-age-ms N] [--max-rows N] \
                [--heartbeat-seconds N] [--progress-seconds N] [--metrics HOST:PORT|off] [--health-max-lag-seconds N] [--slot-warn-bytes N] [--log-format text|json] \
                [--stream-in-progress on|off] \
                [--clickhouse URL] [--clickhouse-database NAME]
          (FRESHET_SOURCE / FRESHET_STORE in the environment stand for --source / --store)
    """
    static let options: Set<String> = ["config", "source", "store", "slot", "publication", "schema", "table", "exclude",
                                       "max-age-ms", "max-rows", "heartbeat-seconds", "metrics", "log-format", "progress-seconds",
                                       "health-max-lag-seconds", "slot-warn-bytes", "clickhouse", "clickhouse-database",
                                       "stream-in-progress"]

    /// The configuration from `--config FILE`, the environment and the flags (flags win over the file, the file over
    /// the environment). Options a command does not declare are simply absent (`freshet check` shares this).
    static func configuration(_ args: Arguments) throws -> Config {
        var fileConfig = Data("{}".utf8)
        if let path = args.value("config") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Arguments.UsageError(description: "cannot read config file \(path)")
            }
            fileConfig = data
        }
        // Flags win over the file; the file wins over the environment.
        var env = ProcessInfo.processInfo.environment
        if let v = args.value("source") { env["FRESHET_SOURCE"] = v }
        if let v = args.value("store") { env["FRESHET_STORE"] = v }
        var config = try Config.parse(json: fileConfig, environment: env)
        if let v = args.value("source") { config.source = v }
        if let v = args.value("store") { config.store = v }
        if let v = args.value("slot") { config.slot = v }
        if let v = args.value("publication") { config.publication = v }
        if !args.all("schema").isEmpty { config.schemas = args.all("schema") }
        if !args.all("table").isEmpty { config.tables = try args.all("table").map(Arguments.tableName) }
        if !args.all("exclude").isEmpty { config.exclude = try args.all("exclude").map(Arguments.tableName) }
        if let v = try args.positiveInteger("max-age-ms") { config.batch.maxAge = Double(v) / 1000 }
        if let v = try args.positiveInteger("max-rows") { config.batch.maxRows = v }
        if let v = try args.integer("heartbeat-seconds") { config.heartbeatInterval = Double(v) }
        if let v = args.value("metrics") { config.metricsAddress = v == "off" ? nil : v }
        if let v = try args.positiveInteger("health-max-lag-seconds") { config.healthMaxLagSeconds = Double(v) }
        if let v = try args.positiveInteger("slot-warn-bytes") { config.slotWarnBytes = Int64(v) }
        if let v = args.value("clickhouse") {
            var ch = config.clickhouse ?? ClickHouseSettings(url: v)
            ch.url = v
            config.clickhouse = ch
        }
        if let v = args.value("clickhouse-database") {
            guard config.clickhouse != nil else { throw Arguments.UsageError(description: "--clickhouse-database needs --clickhouse URL or a clickhouse config") }
            config.clickhouse?.database = v
        }
        if let v = args.value("stream-in-progress") {
            guard v == "on" || v == "off" else { throw Arguments.UsageError(description: "--stream-in-progress on|off") }
            config.streamInProgress = v == "on"
        }
        if let v = args.value("log-format") {
            guard let f = Config.LogFormat(rawValue: v) else { throw Arguments.UsageError(description: "--log-format text|json") }
            config.logFormat = f
        }
        return config
    }

    static func run(_ args: Arguments) throws {
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument \(args.positional[0])") }
        let config = try configuration(args)
        let logger = Logger(format: config.logFormat, terminal: isatty(STDERR_FILENO) == 1)
        let replicator = try Replicator(config: config, logger: logger)
        if let v = try args.positiveInteger("progress-seconds") { replicator.progressInterval = Double(v) }
        logger.info("freshet.start", ["source": config.redactedSource, "store": config.store, "slot": config.slot,
                                      "publication": config.publication,
                                      "clickhouse": config.clickhouse?.redactedURL ?? "-"])
        let signals = SignalTrap([SIGINT, SIGTERM]) { signal in
            logger.info("freshet.signal", ["signal": signal == SIGINT ? "SIGINT" : "SIGTERM"])
            replicator.requestStop()
        }
        defer { signals.cancel() }
        try replicator.run()
        logger.info("freshet.exit", ["committed_lsn": LSN(replicator.stats.committedLSN).description])
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

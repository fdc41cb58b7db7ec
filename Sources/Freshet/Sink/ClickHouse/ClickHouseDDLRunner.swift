import Foundation

/// Runs the sink's CREATE, ALTER, RENAME and DROP statements, `ON CLUSTER` ones included.
///
/// An `ON CLUSTER` statement answers once every host of the cluster ran it from the distributed DDL queue, or fails
/// after `distributed_ddl_task_timeout`. When that timeout left only hosts that are not running (18.16: "Watching task
/// TASK is executing longer than distributed_ddl_task_timeout ... There are N unfinished hosts (0 of them are currently
/// active), they are going to execute the query in background") and this server is among the hosts that finished the
/// task (`TASK/finished` in ZooKeeper lists them as `host:port`), the statement counts as done: the hosts that were
/// down run the queue, in order, when they are back. Any other error is thrown (the sink retries the step).
struct ClickHouseDDLRunner: Sendable {
    let client: ClickHouseClient
    let cluster: String?
    let logger: Logger
    /// This server's entries in the cluster as the DDL queue names hosts (`system.clusters` rows with `is_local = 1`;
    /// servers of one machine all count as local there, so with several on one machine any of them will do).
    private(set) var localHosts: Set<String> = []

    init(client: ClickHouseClient, cluster: String?, logger: Logger) {
        self.client = client
        self.cluster = cluster
        self.logger = logger
    }

    /// Reads this server's entries in the cluster (call once the cluster is known to exist).
    mutating func findLocalHosts() throws {
        guard let cluster else { return }
        let text = try client.execute("SELECT host_name, port FROM system.clusters WHERE cluster = \(ClickHouseSQL.literal(cluster)) AND is_local = 1 FORMAT TabSeparated",
                                      inDatabase: false)
        localHosts = Set(text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t").map(String.init)
            return f.count == 2 ? Self.hostID(host: ClickHouseSink.unescapeTSV(f[0]), port: f[1]) : nil
        })
    }

    /// A host as the distributed DDL queue names it: the host name with every byte but `[A-Za-z0-9_]` as `%XX`
    /// (ClickHouse's escapeForFileName), `:`, the TCP port.
    static func hostID(host: String, port: String) -> String {
        var out = ""
        for byte in host.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out + ":" + port
    }

    /// The task path in 18.16's timeout message (`Watching task /clickhouse/task_queue/ddl/query-0000000027 is ...`).
    static func task(inTimeoutMessage message: String) -> String? {
        guard let start = message.range(of: "Watching task ") else { return nil }
        let path = message[start.upperBound...].prefix { $0 != " " && $0 != "," }
        return path.hasPrefix("/") ? String(path) : nil
    }

    func run(_ sql: String, inDatabase: Bool = true) throws {
        do {
            try client.execute(sql, inDatabase: inDatabase)
        } catch let error as ClickHouseError {
            guard case let .server(_, statement, message) = error, cluster != nil, message.contains("Code: 159"),
                  message.contains("(0 of them are currently active)"), let task = Self.task(inTimeoutMessage: message) else { throw error }
            let finished = try client.execute("SELECT name FROM system.zookeeper WHERE path = \(ClickHouseSQL.literal(task + "/finished")) FORMAT TabSeparated",
                                              inDatabase: false)
            let hosts = Set(finished.split(separator: "\n").map { ClickHouseSink.unescapeTSV(String($0)) })
            guard !hosts.isDisjoint(with: localHosts) else { throw error }
            logger.warn("clickhouse.ddl_pending", ["statement": statement, "task": task, "finished": hosts.sorted().joined(separator: ","),
                                                   "note": "hosts of the cluster that are down run it from the queue when they are back"])
        }
    }
}

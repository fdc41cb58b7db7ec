import Foundation

/// What the connected ClickHouse can do, decided by `SELECT version()` (and the database's engine for EXCHANGE).
public struct ClickHouseServer: Sendable, Equatable {
    /// `SELECT version()`, e.g. `18.16.1`.
    public let version: String
    let major: Int
    let minor: Int
    /// The database engine (`Atomic` allows `EXCHANGE TABLES`).
    public var databaseEngine: String = ""

    public init(version: String) {
        self.version = version
        let n = version.split(separator: ".").map { Int($0) ?? 0 }
        major = n.first ?? 0
        minor = n.count > 1 ? n[1] : 0
    }

    private func atLeast(_ a: Int, _ b: Int) -> Bool { major > a || major == a && minor >= b }

    /// `DateTime64(6)` (20.1 on); before, timestamps are Int64 microseconds.
    public var hasDateTime64: Bool { atLeast(20, 1) }
    /// `Date32` (21.9 on); before, dates are Int32 days since 1970-01-01 (Date covers only 1970–2105 and turns
    /// other values into 0000-00-00 silently).
    public var hasDate32: Bool { atLeast(21, 9) }
    /// `ReplacingMergeTree(ver, is_deleted)` (23.2 on); 18.16 refuses the second parameter.
    public var hasDeletedParameter: Bool { atLeast(23, 2) }
    /// `EXCHANGE TABLES` (20.5 on, in an Atomic database); else a new copy is switched in with two renames.
    public var hasExchange: Bool { atLeast(20, 5) && databaseEngine == "Atomic" }
}

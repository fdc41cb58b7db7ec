import CLibPQ

/// The rows of a finished command, copied out of libpq (text format). Meant for small results:
/// catalog queries, replication command answers. Bulk data goes through `Connection.copyOut`.
public struct QueryResult: Sendable {
    /// Column names in order.
    public let columns: [String]
    /// Column type OIDs in order.
    public let columnTypes: [UInt32]
    /// Rows of text values; `nil` is SQL NULL.
    public let rows: [[String?]]
    /// The row count of INSERT/UPDATE/DELETE/COPY (`PQcmdTuples`), 0 otherwise.
    public let affectedRows: Int

    /// The value at `row` in the column called `name` (nil when NULL or no such column).
    public func value(_ row: Int, _ name: String) -> String? {
        guard let index = columns.firstIndex(of: name), row < rows.count else { return nil }
        return rows[row][index]
    }

    /// The first row's first value, handy for `SELECT x`.
    public var scalar: String? { rows.first?.first ?? nil }

    /// Copies a libpq result, turning error statuses into `PostgresError.server` (and freeing it).
    static func checked(_ result: OpaquePointer, connection: Connection, command: String) throws -> QueryResult {
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_COPY_OUT, PGRES_COPY_IN, PGRES_COPY_BOTH,
             PGRES_EMPTY_QUERY:
            break
        default:
            throw serverError(result, connection: connection, command: command)
        }
        let nColumns = Int(PQnfields(result))
        let nRows = Int(PQntuples(result))
        var columns: [String] = []
        var types: [UInt32] = []
        columns.reserveCapacity(nColumns)
        for c in 0..<nColumns {
            columns.append(PQfname(result, Int32(c)).map { String(cString: $0) } ?? "")
            types.append(UInt32(PQftype(result, Int32(c))))
        }
        var rows: [[String?]] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            var row: [String?] = []
            row.reserveCapacity(nColumns)
            for c in 0..<nColumns {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            rows.append(row)
        }
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return QueryResult(columns: columns, columnTypes: types, rows: rows, affectedRows: affected)
    }

    static func serverError(_ result: OpaquePointer, connection: Connection, command: String) -> PostgresError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { connection.settings.redact(String(cString: $0)) }
        }
        guard let sqlState = field(Int32(UInt8(ascii: "C"))) else {
            // No SQLSTATE: the error came from libpq itself, usually a broken connection.
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
            return .connectionLost(message: connection.settings.redact(
                message.isEmpty ? String(cString: PQerrorMessage(connection.handle)) : message).trimmingTrailingNewlines)
        }
        return .server(ServerError(
            severity: field(Int32(UInt8(ascii: "V"))) ?? field(Int32(UInt8(ascii: "S"))) ?? "ERROR",
            sqlState: sqlState,
            message: field(Int32(UInt8(ascii: "M"))) ?? "",
            detail: field(Int32(UInt8(ascii: "D"))),
            hint: field(Int32(UInt8(ascii: "H"))),
            command: connection.settings.redact(String(command.prefix(200)))))
    }
}

import Foundation

/// One `INSERT ... FORMAT RowBinary` streamed to ClickHouse: the rows go out in chunks as they are encoded, so the
/// server parses them while the shipper reads and encodes the next ones (no insert is held in memory whole).
/// ClickHouse keeps an insert of up to 1,048,576 rows all or nothing; a stream cut short inserts nothing of its
/// last block, and anything inserted twice is harmless (same `_version`).
final class ClickHouseInsert {
    private let client: ClickHouseClient
    private let statement: String
    private let upload: HTTPUpload
    /// Rows and bytes written so far.
    private(set) var rows = 0
    private(set) var bytes = 0

    init(client: ClickHouseClient, statement: String) throws {
        self.client = client
        self.statement = statement
        do {
            upload = try HTTPUpload("POST", client.url(query: statement, inDatabase: true),
                                    headers: [client.endpoint.authorization], timeout: client.timeout)
        } catch let e as HTTPClientError {
            throw client.transportError(e)
        }
    }

    /// Sends `rows` encoded rows. When the server stopped reading (it answered early, with an error), its answer is
    /// thrown.
    func write(_ encoded: [UInt8], rows n: Int) throws {
        try write(encoded, encoded.indices, rows: n)
    }

    /// Sends the bytes `range` of `encoded`, holding `rows` rows.
    func write(_ encoded: [UInt8], _ range: Range<Int>, rows n: Int) throws {
        do {
            try encoded.withUnsafeBytes { try upload.write(UnsafeRawBufferPointer(rebasing: $0[range])) }
        } catch let e as HTTPClientError {
            if let early = upload.earlyResponse() { _ = try client.checked(early, statement: statement) }
            throw diagnosed(e)
        }
        rows += n
        bytes += range.count
    }

    /// Ends the rows; returns once ClickHouse acknowledged them (throws its error otherwise).
    func finish() throws {
        do {
            _ = try client.checked(try upload.finish(), statement: statement)
        } catch let e as HTTPClientError {
            throw diagnosed(e)
        }
    }

    /// A server that refuses the statement at once (a missing table or column) answers and closes while rows are
    /// still unread, which resets the connection and loses its answer. The same statement with no rows gets that
    /// answer again: it is thrown when there is one, else the connection's error.
    private func diagnosed(_ e: HTTPClientError) -> Error {
        do {
            try client.execute(statement)
        } catch let error as ClickHouseError {
            if case .unreachable = error {} else { return error }
        } catch {}
        return client.transportError(e)
    }
}

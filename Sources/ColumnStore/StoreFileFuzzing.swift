/// Entry points for the libFuzzer targets (Tests/Fuzz): the store's JSON files as `Store.open` reads them. Not part
/// of the library's API.
@_spi(Fuzzing) public enum StoreFileFuzzing {
    /// Decodes `bytes` as a table's `manifest.json` and derives what readers use from it (reader columns, the
    /// current schema, part order, the table name); returns the number of parts, or nil when the manifest is refused.
    public static func decodeManifest(_ bytes: [UInt8]) -> Int? {
        guard let m = try? Manifest.decode(bytes, path: "manifest.json") else { return nil }
        _ = m.readerColumns
        _ = m.currentSchema
        _ = m.partOrder
        _ = try? TableName(parsing: m.table)
        for v in m.schemaVersions { _ = m.schemaVersion(v.version) }
        return m.parts.count
    }

    /// Decodes `bytes` as `store.json`; returns its checkpoint LSN, or nil when the file is refused.
    public static func decodeStoreIdentity(_ bytes: [UInt8]) -> UInt64? {
        (try? StoreIdentity.decode(bytes, path: "store.json"))?.checkpointLSN
    }
}

import ColumnStore
import Foundation

/// ClickHouse table names: `public.T` → `T`, `S.T` → `S_T`, unless `tableSettings."S.T".clickhouseTable` says
/// otherwise.
struct ClickHouseNaming: Sendable {
    let overrides: [String: String]

    init(tableSettings: [String: Config.TableSettings]) {
        overrides = tableSettings.compactMapValues(\.clickhouseTable)
    }

    /// The ClickHouse name of the store table `qualifiedName`.
    func name(of qualifiedName: String) -> String {
        if let o = overrides[qualifiedName] { return o }
        guard let t = try? TableName(parsing: qualifiedName) else { return qualifiedName }
        return t.schema == "public" ? t.table : t.schema + "_" + t.table
    }
}

import Foundation
import XCTest
import TestSupport
@testable import ColumnStore

/// `freshet sql --dialect duckdb` run by DuckDB returns exactly what `freshet scan` returns, across deletes, NULLs,
/// unchanged-TOAST chains, re-inserts, a schema change and merges; part files are valid Parquet with the right types.
final class SQLInteropTests: XCTestCase {
    static let table = "public.orders"
    static let columns: [ColumnDefinition] = [
        .init("id", .int64, nullable: false), .init("name", .string), .init("amount", .decimal(precision: 12, scale: 2)),
        .init("wide", .decimal(precision: 30, scale: 4)), .init("price", .float64), .init("qty", .int32),
        .init("small", .int16), .init("flag", .bool), .init("d", .date), .init("ts", .timestamp),
        .init("tz", .timestamptz), .init("data", .bytes), .init("big", .string),
    ]

    /// Appends a row for `id` with values derived from `seed`; `nulls` makes every optional column NULL;
    /// `unchangedBig` marks `big` unchanged.
    static func row(_ b: inout RowBatch, id: Int64, seed: Int64, version: UInt64, nulls: Bool = false, unchangedBig: Bool = false) {
        for (i, c) in b.columns.enumerated() {
            if c.name == "id" { b.append(id, column: i); continue }
            if c.name == "big" {
                if unchangedBig { b.appendUnchanged(column: i) } else { b.append(String(repeating: "big\(seed)-", count: 50), column: i) }
                continue
            }
            if nulls { b.appendNull(column: i); continue }
            switch c.name {
            case "name": b.append(seed % 5 == 0 ? "" : "name \"\(seed)\", ünï", column: i)
            case "amount": b.append(seed * 101 - 5000, column: i)
            case "wide": b.append(decimal128: Int128(seed) * 1_000_000_000_000_000_000 + 12345, column: i)
            case "price": b.append(Double(seed) * 0.25, column: i)
            case "qty": b.append(seed * 3, column: i)
            case "small": b.append(-seed, column: i)
            case "flag": b.append(seed % 2 == 0, column: i)
            case "d": b.append(19_000 + seed, column: i)
            case "ts": b.append(1_700_000_000_000_000 + seed * 1_234_567, column: i)
            case "tz": b.append(-86_400_000_000 * 3 + seed * 1_000_000, column: i)
            case "data": b.append(byteCollection: [UInt8(seed & 0xff), 0, 0xff], column: i)
            case "note": b.append("note \(seed)", column: i)
            default: b.appendNull(column: i)
            }
        }
        b.finishRow(version: version)
    }

    static let compareScript = #"""
import sys, json, duckdb, datetime, decimal
sql, scan = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
# Fetch TIMESTAMPTZ as epoch micros (Python's tz-aware conversion would need pytz).
tz = [r[0] for r in con.execute(f"DESCRIBE ({sql})").fetchall() if r[1] == 'TIMESTAMP WITH TIME ZONE']
q = lambda c: '"' + c + '"'
repl = (' REPLACE (' + ', '.join('epoch_us(%s) AS %s' % (q(c), q(c)) for c in tz) + ')') if tz else ''
cur = con.execute(f"SELECT *{repl} FROM ({sql})")
names = [d[0] for d in cur.description]
def norm(v, name=None):
    if v is None: return None
    if name in tz:
        us = int(v)
        dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
        return norm(dt) + '+00'
    if isinstance(v, bool) or isinstance(v, int) or isinstance(v, float): return v
    if isinstance(v, decimal.Decimal): return str(v)
    if isinstance(v, datetime.datetime):
        s = v.strftime('%Y-%m-%d %H:%M:%S')
        if v.microsecond: s += '.' + ('%06d' % v.microsecond).rstrip('0')
        return s + ('+00' if v.tzinfo is not None else '')
    if isinstance(v, datetime.date): return v.isoformat()
    if isinstance(v, (bytes, bytearray)): return '\\x' + bytes(v).hex()
    return v
duck = sorted(([norm(x, n) for x, n in zip(r, names)] for r in cur.fetchall()), key=lambda r: r[names.index('id')])
mine = []
for line in open(scan):
    o = json.loads(line)
    assert list(o.keys()) == names, (list(o.keys()), names)
    mine.append([o[n] for n in names])
mine.sort(key=lambda r: r[names.index('id')])
if duck != mine:
    for a, b in zip(duck, mine):
        if a != b: print('first difference:\n duckdb', a, '\n scan  ', b); break
    print('rows', len(duck), len(mine)); sys.exit(1)
print(len(duck))
"""#

    func compare(_ store: Store, _ dir: URL, expectRows: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let freshet = try builtExecutable("freshet")
        let sql = try Subprocess.run(freshet, ["sql", Self.table, "--store", dir.path, "--dialect", "duckdb"])
        XCTAssertEqual(sql.status, 0, sql.stderr, file: file, line: line)
        XCTAssertFalse(sql.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(";"), file: file, line: line)
        let scan = try Subprocess.run(freshet, ["scan", Self.table, "--format", "jsonl"], environment: ["FRESHET_STORE": dir.path])
        XCTAssertEqual(scan.status, 0, scan.stderr, file: file, line: line)
        let scanFile = dir.appendingPathComponent("scan.jsonl")
        try scan.stdout.write(to: scanFile, atomically: true, encoding: .utf8)
        let out = try Subprocess.python(Self.compareScript, [sql.stdout, scanFile.path])
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), String(expectRows), file: file, line: line)
    }

    func testDuckDBViewMatchesScan() throws {
        _ = try TestEnvironment.python()
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        var options = StoreOptions()
        options.gracePeriod = 0
        options.rowGroupRows = 7
        let store = try Store.open(at: dir, identity: testIdentity, options: options)
        var columns = Self.columns
        try store.defineTable(Self.table, schema: TableSchema(columns: columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2))
        func commit(_ version: UInt64, _ fill: (inout RowBatch) -> Void) throws {
            var b = RowBatch(columns: columns)
            fill(&b)
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: Self.table))
            try store.commit(c)
        }
        try commit(100) { b in for id in 1...40 { Self.row(&b, id: Int64(id), seed: Int64(id), version: 100, nulls: id % 7 == 0) } }
        try commit(200) { b in
            for id in 1...10 { Self.row(&b, id: Int64(id), seed: Int64(id) + 100, version: 200, unchangedBig: true) }
            for id in 11...15 { b.append(Int64(id), column: 0); b.finishTombstone(version: 200) }
            Self.row(&b, id: 16, seed: 16, version: 200, nulls: true)
        }
        try commit(300) { b in
            for id in 1...5 { Self.row(&b, id: Int64(id), seed: Int64(id) + 300, version: 300, unchangedBig: true) }
            Self.row(&b, id: 11, seed: 11, version: 300)
        }
        try compare(store, dir, expectRows: 36)

        // Schema version 2 adds `note`; older parts read it as NULL.
        columns.append(.init("note", .string))
        XCTAssertEqual(try store.defineTable(Self.table, schema: TableSchema(columns: columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2)), 2)
        try commit(400) { b in for id in 20...25 { Self.row(&b, id: Int64(id), seed: Int64(id) + 400, version: 400, unchangedBig: id % 2 == 0) } }
        try compare(store, dir, expectRows: 36)

        // After a full merge the parts hold resolved rows; a later unchanged update still carries forward.
        try store.compact(Self.table)
        XCTAssertEqual(try store.manifest(Self.table).parts.count, 2)
        try commit(500) { b in Self.row(&b, id: 1, seed: 501, version: 500, unchangedBig: true); b.append(Int64(2), column: 0); b.finishTombstone(version: 500) }
        try compare(store, dir, expectRows: 35)

        // The parts are plain Parquet: types, LZ4_RAW, sort order, metadata, checksum (zlib CRC-32) and mode 0640.
        let m = try store.manifest(Self.table)
        for p in m.parts {
            let path = store.tableDirectory(Self.table).appendingPathComponent(p.path).path
            let attrs = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o640)
            let out = try Subprocess.python(#"""
import sys, zlib, pyarrow.parquet as pq
path, checksum, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = pq.ParquetFile(path)
s = f.schema_arrow
want = {'id': 'int64', 'amount': 'decimal128(12, 2)', 'wide': 'decimal128(30, 4)', 'price': 'double', 'qty': 'int32',
        'small': 'int16', 'flag': 'bool', 'd': 'date32[day]', 'ts': 'timestamp[us]', 'tz': 'timestamp[us, tz=UTC]',
        'data': 'binary', 'big': 'string', 'name': 'string', '_version': 'int64', '_deleted': 'bool', '_unchanged': 'string'}
for n, t in want.items():
    assert str(s.field(n).type) == t, (n, str(s.field(n).type), t)
md = f.metadata
assert md.num_rows == rows, (md.num_rows, rows)
import duckdb
codecs = duckdb.sql("select distinct compression from parquet_metadata('%s')" % path).fetchall()
assert codecs == [('LZ4_RAW',)], codecs
kv = {k.decode(): v.decode() for k, v in md.metadata.items()}
assert kv['freshet.table'] == 'public.orders', kv
t = f.read(columns=['id', '_version']).to_pylist()
keys = [(r['id'], r['_version']) for r in t]
assert keys == sorted(keys), 'not sorted by (key, _version)'
crc = zlib.crc32(open(path, 'rb').read())
assert 'crc32:%08x' % crc == checksum, ('crc32:%08x' % crc, checksum)
print('ok')
"""#, [path, p.checksum, String(p.rows)])
            XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        }

        // ClickHouse: one SELECT with argMax over tuples (NULL-preserving) and the unchanged filter.
        let ch = try store.sql(Self.table, dialect: .clickhouse, view: "orders_current")
        XCTAssertTrue(ch.hasPrefix("CREATE VIEW \"orders_current\" AS SELECT \"id\", argMaxIf(tuple(\"name\")"), ch)
        XCTAssertTrue(ch.contains("HAVING argMax(\"_deleted\", \"_version\") = 0"), ch)
        for p in m.parts { XCTAssertTrue(ch.contains((p.path as NSString).lastPathComponent.replacingOccurrences(of: ".parquet", with: ""))) }
        XCTAssertTrue(ch.contains(store.tableDirectory(Self.table).path + "/parts/*/{"), ch)
    }

    /// DuckDB's `arg_max` skips NULL arguments, which would resurrect an overwritten value; the view must use
    /// `arg_max_null`. (Guards the assumption the SQL relies on.)
    func testDuckDBArgMaxNullKeepsNull() throws {
        let out = try Subprocess.python("""
import duckdb
print(duckdb.sql("select arg_max(x, v), arg_max_null(x, v) from (values (1, 1), (NULL, 2)) t(x, v)").fetchall())
""")
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "[(1, None)]")
    }

    /// DuckDB matches column names case-insensitively: a view over columns `a` and `A` would show one under the
    /// other's name, so `freshet sql --dialect duckdb` refuses it and says why; ClickHouse tells them apart.
    func testColumnsDifferingOnlyInCaseAreRefusedForDuckDB() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        let columns: [ColumnDefinition] = [.init("id", .int64, nullable: false), .init("a", .string), .init("A", .string)]
        _ = try store.defineTable("s.t", schema: TableSchema(columns: columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 1))
        XCTAssertThrowsError(try store.sql("s.t", dialect: .duckdb)) { error in
            XCTAssertTrue("\(error)".contains("\"a\" and \"A\" differ only in case"), "\(error)")
        }
        XCTAssertNoThrow(try store.sql("s.t", dialect: .clickhouse))
    }
}

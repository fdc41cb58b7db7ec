import Foundation
import XCTest
import TestSupport
@testable import Parquet

/// Independent readers and writers: DuckDB and pyarrow read Freshet files; Freshet reads pyarrow files.
final class InteropTests: XCTestCase {
    private let readScript = PythonScripts.canon + """
    import duckdb, pyarrow as pa, pyarrow.parquet as pq
    path = sys.argv[1]
    out = {}
    con = duckdb.connect()
    desc = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    out['duckdb_types'] = {r[0]: r[1] for r in desc}
    sel = []
    for name, t in out['duckdb_types'].items():
        q = '"' + name + '"'
        if t.startswith('TIMESTAMP'): sel.append('epoch_us(%s)' % q)
        elif t == 'DATE': sel.append("(%s - DATE '1970-01-01')" % q)
        elif t == 'UUID': sel.append("'hex:' || replace(%s::VARCHAR, '-', '')" % q)
        else: sel.append(q)
    rows = con.execute('SELECT %s FROM read_parquet(?)' % ', '.join(sel), [path]).fetchall()
    names = list(out['duckdb_types'].keys())
    out['duckdb'] = {n: [canon(r[i]) for r in rows] for i, n in enumerate(names)}
    out['duckdb_codecs'] = sorted({r[0] for r in con.execute('SELECT DISTINCT compression FROM parquet_metadata(?)', [path]).fetchall()})
    pf = pq.ParquetFile(path)
    md = pf.metadata
    table = pf.read()
    out['pyarrow'] = {}
    out['codecs'] = sorted({md.row_group(g).column(c).compression for g in range(md.num_row_groups) for c in range(md.num_columns)})
    out['created_by'] = md.created_by
    out['metadata'] = {k.decode(): v.decode() for k, v in (pf.schema_arrow.metadata or {}).items()}
    errors = []
    checked = 0
    for ci, name in enumerate(table.column_names):
        col = table.column(name)
        vals = col.to_pylist()
        out['pyarrow'][name] = [canon(v) for v in vals]
        start = 0
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            n = rg.num_rows
            part = vals[start:start + n]
            start += n
            st = rg.column(ci).statistics
            present = [v for v in part if v is not None and not (isinstance(v, float) and v != v)]
            if st is None:
                errors.append('%s rg%d: no statistics' % (name, g)); continue
            if st.null_count != sum(1 for v in part if v is None):
                errors.append('%s rg%d: null_count %s' % (name, g, st.null_count))
            if present:
                if not st.has_min_max:
                    errors.append('%s rg%d: no min/max' % (name, g)); continue
                lo, hi = min(present), max(present)
                smin, smax = st.min, st.max
                if isinstance(lo, str) and isinstance(smin, bytes): smin, smax = smin.decode(), smax.decode()
                if isinstance(lo, uuid.UUID) and isinstance(smin, bytes): smin, smax = uuid.UUID(bytes=smin), uuid.UUID(bytes=smax)
                if canon(lo) != canon(smin) and not (lo == smin):
                    errors.append('%s rg%d: min %r != %r' % (name, g, smin, lo))
                if canon(hi) != canon(smax) and not (hi == smax):
                    errors.append('%s rg%d: max %r != %r' % (name, g, smax, hi))
                checked += 1
    out['stats_errors'] = errors
    out['stats_checked'] = checked
    print(json.dumps(out))
    """

    private func runReaders(_ path: String) throws -> [String: Any] {
        let text = try Subprocess.python(readScript, [path])
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return obj as? [String: Any] ?? [:]
    }

    func testDuckDBAndPyArrowReadFreshetFiles() throws {
        _ = try TestEnvironment.python()
        let dir = TempDir()
        var rng = SeededRandom(seed: 11)
        var cols: [Column] = []
        var data: [ColumnBuffer] = []
        let rows = 3000
        for (i, t) in TestData.allTypes.enumerated() {
            cols.append(Column("c\(i)", t, nullable: true))
            data.append(TestData.column(t, rows: rows, nullRate: 0.2, rng: &rng))
            cols.append(Column("d\(i)", t, nullable: false))
            data.append(TestData.column(t, rows: rows, nullRate: 0, rng: &rng, distinct: 7))
        }
        // Extreme values in a few columns.
        if case var .int64(a) = data[6].values { a[0] = .min; a[1] = .max; data[6] = ColumnBuffer(.int64(a), validity: data[6].validity.map { var v = $0; v[0] = true; v[1] = true; return v }) }
        if case var .double(a) = data[10].values { a[2] = .nan; a[3] = .infinity; a[4] = -0.0; data[10] = ColumnBuffer(.double(a), validity: data[10].validity.map { var v = $0; v[2] = true; v[3] = true; v[4] = true; return v }) }
        for compression in [Compression.lz4Raw, .none] {
            var o = WriterOptions()
            o.compression = compression
            o.rowGroupRows = 1000
            o.pageRowLimit = 300
            o.keyValueMetadata = [("freshet.table", "public.t")]
            let name = "f-\(compression).parquet"
            _ = try roundTrip(Schema(cols), data, options: o, batches: 3, dir: dir, name: name)
            let out = try runReaders(dir.file(name))
            let duck = Canonical.parseColumns(out["duckdb"])
            let arrow = Canonical.parseColumns(out["pyarrow"])
            for (i, c) in cols.enumerated() {
                let expected = Canonical.column(c.type, data[i])
                XCTAssertEqual(duck[c.name], expected, "DuckDB \(c.name) \(c.type)")
                XCTAssertEqual(arrow[c.name], expected, "pyarrow \(c.name) \(c.type)")
            }
            let types = out["duckdb_types"] as? [String: String] ?? [:]
            XCTAssertEqual(types["c1"], "SMALLINT")
            XCTAssertEqual(types["c6"], "VARCHAR")
            XCTAssertEqual(types["c7"], "JSON")
            XCTAssertEqual(types["c8"], "BLOB")
            XCTAssertEqual(types["c9"], "UUID")
            XCTAssertEqual(types["c11"], "DATE")
            XCTAssertEqual(types["c12"], "TIMESTAMP WITH TIME ZONE")
            XCTAssertEqual(types["c13"], "TIMESTAMP")
            XCTAssertEqual(types["c14"], "DECIMAL(9,2)")
            XCTAssertEqual(types["c16"], "DECIMAL(38,10)")
            // pyarrow names LZ4_RAW "LZ4" (it writes LZ4_RAW for compression='lz4'); DuckDB shows the footer's codec name.
            XCTAssertEqual(out["codecs"] as? [String], [compression == .lz4Raw ? "LZ4" : "UNCOMPRESSED"])
            XCTAssertEqual(out["duckdb_codecs"] as? [String], [compression == .lz4Raw ? "LZ4_RAW" : "UNCOMPRESSED"])
            XCTAssertEqual(out["created_by"] as? String, "freshet version 0.1.0 (build dev)")
            XCTAssertEqual((out["metadata"] as? [String: String])?["freshet.table"], "public.t")
            XCTAssertEqual(out["stats_errors"] as? [String], [])
            XCTAssertEqual(out["stats_checked"] as? Int, cols.count * 3)
        }
    }

    private let writeScript = PythonScripts.canon + """
    import random, pyarrow as pa, pyarrow.parquet as pq
    outdir = sys.argv[1]
    random.seed(5)
    n = 5000
    def maybe(f, p=0.15):
        return [None if random.random() < p else f(i) for i in range(n)]
    words = ['alpha', 'beta', 'gamma', '', 'δέλτα', 'x' * 300]
    cols = {
      'b': pa.array(maybe(lambda i: random.random() < 0.5), pa.bool_()),
      'i16': pa.array(maybe(lambda i: random.randint(-32768, 32767)), pa.int16()),
      'i32': pa.array(maybe(lambda i: random.randint(-2**31, 2**31 - 1)), pa.int32()),
      'i64': pa.array([random.randint(-2**63, 2**63 - 1) if i % 3 else i for i in range(n)], pa.int64()),
      'seq': pa.array(list(range(n)), pa.int64()),
      'f32': pa.array(maybe(lambda i: random.uniform(-1e3, 1e3)), pa.float32()),
      'f64': pa.array(maybe(lambda i: random.uniform(-1e9, 1e9)), pa.float64()),
      's': pa.array(maybe(lambda i: random.choice(words) + (str(i) if i > 4000 else '')), pa.string()),
      'bin': pa.array(maybe(lambda i: random.randbytes(random.randint(0, 20))), pa.binary()),
      'd': pa.array(maybe(lambda i: datetime.date(1970, 1, 1) + datetime.timedelta(days=random.randint(-30000, 30000))), pa.date32()),
      'tstz': pa.array(maybe(lambda i: random.randint(-2*10**15, 4*10**15)), pa.int64()).cast(pa.timestamp('us', tz='UTC')),
      'ts': pa.array(maybe(lambda i: random.randint(-2*10**15, 4*10**15)), pa.int64()).cast(pa.timestamp('us')),
      'dec12': pa.array(maybe(lambda i: decimal.Decimal(random.randint(-10**12 + 1, 10**12 - 1)).scaleb(-2)), pa.decimal128(12, 2)),
      'dec30': pa.array(maybe(lambda i: decimal.Decimal(random.randint(-10**30 + 1, 10**30 - 1)).scaleb(-5)), pa.decimal128(30, 5)),
      'u': pa.array(maybe(lambda i: uuid.UUID(int=random.getrandbits(128)).bytes), pa.uuid()),
      'j': pa.array(maybe(lambda i: json.dumps({'k': i})), pa.json_(pa.string())),
    }
    ms = maybe(lambda i: random.randint(-2 * 10**12, 4 * 10**12))
    ns = maybe(lambda i: random.randint(-2 * 10**18, 4 * 10**18))
    cols['tsms'] = pa.array(ms, pa.int64()).cast(pa.timestamp('ms', tz='UTC'))
    cols['tsns'] = pa.array(ns, pa.int64()).cast(pa.timestamp('ns'))
    table = pa.table(cols)
    expected = {name: [canon(v) for v in table.column(name).to_pylist()] for name in table.column_names if name not in ('tsms', 'tsns')}
    expected['tsms'] = [None if v is None else str(v * 1000) for v in ms]
    expected['tsns'] = [None if v is None else str(v // 1000) for v in ns]
    variants = []
    for comp in ['lz4', 'none']:
        for ver in ['1.0', '2.0']:
            for dic in [True, False]:
                name = 'py-%s-v%s-%s.parquet' % (comp, ver, 'dict' if dic else 'plain')
                pq.write_table(table, outdir + '/' + name, compression=comp, data_page_version=ver, use_dictionary=dic,
                               row_group_size=1800, data_page_size=4096)
                variants.append(name)
    # Dictionary fallback (tiny dictionary page limit) and delta encodings.
    pq.write_table(table, outdir + '/py-fallback.parquet', compression='lz4', dictionary_pagesize_limit=512, data_page_size=2048)
    variants.append('py-fallback.parquet')
    for ver in ['1.0', '2.0']:
        name = 'py-delta-v%s.parquet' % ver
        pq.write_table(table, outdir + '/' + name, compression='lz4', use_dictionary=False, data_page_version=ver,
                       column_encoding={'i32': 'DELTA_BINARY_PACKED', 'i64': 'DELTA_BINARY_PACKED', 'seq': 'DELTA_BINARY_PACKED',
                                        'ts': 'DELTA_BINARY_PACKED', 'd': 'DELTA_BINARY_PACKED',
                                        's': 'DELTA_BYTE_ARRAY', 'bin': 'DELTA_LENGTH_BYTE_ARRAY', 'j': 'DELTA_LENGTH_BYTE_ARRAY',
                                        'f64': 'BYTE_STREAM_SPLIT', 'f32': 'BYTE_STREAM_SPLIT'})
        variants.append(name)
    pq.write_table(table, outdir + '/py-int96.parquet', compression='none', use_deprecated_int96_timestamps=True)
    variants.append('py-int96.parquet')
    print(json.dumps({'expected': expected, 'files': variants}))
    """

    func testFreshetReadsPyArrowFiles() throws {
        _ = try TestEnvironment.python()
        let dir = TempDir()
        let text = try Subprocess.python(writeScript, [dir.path])
        let out = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        let expected = Canonical.parseColumns(out["expected"])
        let files = out["files"] as? [String] ?? []
        XCTAssertEqual(files.count, 12)
        let expectedTypes: [String: ColumnType] = [
            "b": .boolean, "i16": .int16, "i32": .int32, "i64": .int64, "seq": .int64, "f32": .float, "f64": .double,
            "s": .string, "bin": .bytes, "d": .date, "tstz": .timestamp(utc: true), "ts": .timestamp(utc: false),
            "dec12": .decimal(precision: 12, scale: 2), "dec30": .decimal(precision: 30, scale: 5), "u": .uuid, "j": .json,
            "tsms": .timestamp(utc: true), "tsns": .timestamp(utc: false),
        ]
        for f in files {
            let r = try ParquetFileReader(path: dir.file(f))
            XCTAssertEqual(r.rowCount, 5000, f)
            XCTAssertEqual(r.schema.columns.count, expectedTypes.count, f)
            let cols = try r.readAll()
            for (i, c) in r.schema.columns.enumerated() {
                let int96 = f == "py-int96.parquet" && c.name.hasPrefix("ts")  // INT96 carries no time zone flag
                XCTAssertEqual(c.type, int96 ? .timestamp(utc: false) : expectedTypes[c.name], "\(f) \(c.name)")
                XCTAssertEqual(Canonical.column(c.type, cols[i]), expected[c.name], "\(f) \(c.name)")
            }
            // Statistics are exposed in storage form: check the sequence column's first row group.
            if let seq = r.schema.index(of: "seq"), let st = r.rowGroups.first?.columns[seq].statistics {
                XCTAssertEqual(st.min, .int64(0), f)
                XCTAssertEqual(st.max, .int64(r.rowGroups[0].rowCount - 1), f)
            }
        }
    }
}

/// Readers prune row groups with the statistics; wrong min/max silently drop rows. DuckDB filter counts must
/// equal counts computed from the data.
final class StatisticsPruningTests: XCTestCase {
    func testDuckDBFilterCountsMatchTheData() throws {
        _ = try TestEnvironment.python()
        let dir = TempDir()
        var rng = SeededRandom(seed: 31)
        let rows = 20_000
        let schema = Schema([Column("i", .int64), Column("s", .string), Column("d", .double), Column("dec", .decimal(precision: 30, scale: 2))])
        let data = schema.columns.map { TestData.column($0.type, rows: rows, nullRate: 0.1, rng: &rng) }
        var o = WriterOptions()
        o.rowGroupRows = 2_500
        _ = try roundTrip(schema, data, options: o, dir: dir)
        guard case let .int64(iv) = data[0].values, case let .byteArray(sv) = data[1].values,
              case let .double(dv) = data[2].values, case let .fixed(fv) = data[3].values else { return XCTFail() }
        let sortedI = iv.indices.filter { !data[0].isNull($0) }.map { iv[$0] }.sorted()
        let iThresholds = [sortedI[0], sortedI[sortedI.count / 3], sortedI[sortedI.count - 1], sortedI[sortedI.count - 2]]
        let strings = sv.offsets.indices.dropLast().filter { !data[1].isNull($0) }.map { sv.string(at: $0) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let sThreshold = strings[strings.count / 2]
        let decimals = (0..<rows).filter { !data[3].isNull($0) }.map { Canonical.int128(bigEndian: fv[$0]) }.sorted()
        let decThreshold = decimals[decimals.count - 3]
        var queries: [String] = []
        var expected: [Int] = []
        for t in iThresholds {
            queries.append("SELECT count(*) FROM read_parquet('\(dir.file("t.parquet"))') WHERE i > \(t)")
            expected.append(iv.indices.filter { !data[0].isNull($0) && iv[$0] > t }.count)
            queries.append("SELECT count(*) FROM read_parquet('\(dir.file("t.parquet"))') WHERE i <= \(t)")
            expected.append(iv.indices.filter { !data[0].isNull($0) && iv[$0] <= t }.count)
        }
        queries.append("SELECT count(*) FROM read_parquet('\(dir.file("t.parquet"))') WHERE s >= '\(sThreshold.replacingOccurrences(of: "'", with: "''"))'")
        expected.append((0..<rows).filter { !data[1].isNull($0) && !Array(sv.string(at: $0).utf8).lexicographicallyPrecedes(Array(sThreshold.utf8)) }.count)
        queries.append("SELECT count(*) FROM read_parquet('\(dir.file("t.parquet"))') WHERE d > 0")
        expected.append((0..<rows).filter { !data[2].isNull($0) && dv[$0] > 0 }.count)
        queries.append("SELECT count(*) FROM read_parquet('\(dir.file("t.parquet"))') WHERE dec > \(decThreshold)::HUGEINT / 100.0::DECIMAL(30,2)")
        expected.append(2)
        let script = """
        import sys, json, duckdb
        con = duckdb.connect()
        print(json.dumps([con.execute(q).fetchone()[0] for q in json.loads(sys.argv[1])]))
        """
        let json = String(decoding: try JSONSerialization.data(withJSONObject: queries), as: UTF8.self)
        let out = try Subprocess.python(script, [json])
        let counts = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [Int]
        XCTAssertEqual(counts, expected)
    }
}

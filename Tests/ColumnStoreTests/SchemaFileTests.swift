import Foundation
import XCTest
import TestSupport
@testable import ColumnStore

/// Real `store.json` and `manifest.json` files validate against Schemas/*.schema.json (Python `jsonschema`),
/// and a broken manifest does not.
final class SchemaFileTests: XCTestCase {
    func testStoreFilesMatchJSONSchemas() throws {
        _ = try TestEnvironment.python()
        let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas")
        let dir = try makeTempDirectory(self)
        var o = StoreOptions()
        o.gracePeriod = 0
        let store = try Store.open(at: dir, identity: testIdentity, options: o)
        let specs: [(String, PartitionSpec)] = [("public.h", .keyHash(buckets: 8)), ("public.v", .value(column: "region")),
                                                ("public.t", .time(column: "ts", bucket: .day)), ("public.n", .none),
                                                ("\"public.dotted\".\"a/b \"\"q\"\"\"", .none)]
        for (t, p) in specs {
            try store.defineTable(t, schema: ModelSchema.schema(ModelSchema.base + [.init("wide", .decimal(precision: 38, scale: 10))]), partitioning: p)
            var b = RowBatch(columns: ModelSchema.base + [.init("wide", .decimal(precision: 38, scale: 10))])
            for id in 0..<20 {
                ModelSchema.append(&b, id: Int64(id), ModelRow(name: "x", region: id % 3 == 0 ? nil : "r\(id % 4)", ts: Int64(id) * 86_400_000_000), version: UInt64.max - 5)
            }
            var c = StoreCommit(upTo: UInt64.max - 5)
            c.add(try store.stage(b, table: t))
            c.truncate(t)
            try store.commit(c)
        }
        let manifests = specs.map { store.manifestURL($0.0).path }
        let script = #"""
import sys, json, jsonschema
schemas, store_file, manifests = sys.argv[1], sys.argv[2], sys.argv[3:]
def check(schema_name, path, doc=None):
    schema = json.load(open(f"{schemas}/{schema_name}"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc if doc is not None else json.load(open(path)))
check('store.schema.json', store_file)
for m in manifests: check('manifest.schema.json', m)
bad = json.load(open(manifests[0])); bad['parts'][0]['checksum'] = 'md5:xyz'
try:
    check('manifest.schema.json', None, bad); print('broken manifest accepted'); sys.exit(1)
except jsonschema.ValidationError: pass
print('ok', len(manifests))
"""#
        let out = try Subprocess.python(script, [schemas.path, store.storeFile.path] + manifests)
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "ok 5")
    }
}

import Foundation
@testable import Freshet
import TestSupport
import XCTest

final class ConfigTests: XCTestCase {
    func testFullConfigParses() throws {
        let json = """
        {"source": "postgresql://u:hunter2@127.0.0.1:5432/db", "store": "/tmp/s", "slot": "s1", "publication": "p1",
         "schemas": ["shop"], "exclude": ["shop.audit"],
         "tableSettings": {"shop.orders": {"partition": "month:created_at"}, "shop.events": {"key": ["id"], "partition": "hash:16"}},
         "batch": {"maxRows": 5000, "maxAgeMs": 250}, "metrics": {"listen": "off"}, "heartbeatSeconds": 2, "logFormat": "json"}
        """
        let c = try Config.parse(json: Data(json.utf8), environment: [:])
        XCTAssertEqual(c.slot, "s1")
        XCTAssertEqual(c.schemas, ["shop"])
        XCTAssertEqual(c.tableSettings["shop.orders"]?.partition, .time(column: "created_at", bucket: .month))
        XCTAssertEqual(c.tableSettings["shop.events"]?.partition, .hash(buckets: 16))
        XCTAssertEqual(c.tableSettings["shop.events"]?.key, ["id"])
        XCTAssertEqual(c.batch.maxRows, 5000)
        XCTAssertEqual(c.batch.maxAge, 0.25)
        XCTAssertNil(c.metricsAddress)
        XCTAssertEqual(c.logFormat, .json)
        XCTAssertEqual(c.redactedSource, "postgresql://u:***@127.0.0.1:5432/db")
    }

    func testErrorsNameTheFieldAndNeverThePassword() {
        func error(_ json: String) -> String {
            do { _ = try Config.parse(json: Data(json.utf8), environment: [:]); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(#"{"store": "x"}"#), "config: source: missing (set it in the file, with --source, or FRESHET_SOURCE)")
        XCTAssertTrue(error(#"{"source": "x", "batchh": {}}"#).hasPrefix("config: batchh: unknown field"))
        XCTAssertEqual(error(#"{"source": "x", "batch": {"maxRows": 0}}"#), "config: batch.maxRows: must be > 0")
        XCTAssertEqual(error(#"{"source": "x", "batch": {"maxRows": true}}"#), "config: batch.maxRows: must be a number")
        XCTAssertTrue(error(#"{"source": "x", "tableSettings": {"orders": {}}}"#).contains("tableSettings.orders: table names are schema.table"))
        XCTAssertTrue(error(#"{"source": "x", "tableSettings": {"a.b": {"partition": "weekly:x"}}}"#).contains("tableSettings.a.b.partition"))
        XCTAssertTrue(error(#"{"source": "x", "slot": "Bad Slot"}"#).hasPrefix("config: slot:"))
        XCTAssertTrue(error("{not json").hasPrefix("config: (file): not valid JSON"))
        let leaked = error(#"{"source": "postgresql://u:hunter2@h/db", "logFormat": "xml"}"#)
        XCTAssertEqual(leaked, #"config: logFormat: must be "text" or "json""#)
    }

    func testTableNamesMayQuoteDottedPartsAndAreStoredCanonically() throws {
        let json = #"""
        {"source": "x", "tables": ["\"public\".\"orders\"", "\"public.dotted\".name", "public.\"dotted.name\"", "public.a/b"],
         "exclude": ["public.\"say \"\"hi\"\"\""], "tableSettings": {"\"public\".orders": {"partition": "none"}}}
        """#
        let c = try Config.parse(json: Data(json.utf8), environment: [:])
        XCTAssertEqual(c.tables, ["public.orders", "\"public.dotted\".name", "public.\"dotted.name\"", "public.a/b"])
        XCTAssertEqual(c.exclude, ["public.\"say \"\"hi\"\"\""])
        XCTAssertEqual(Array(c.tableSettings.keys), ["public.orders"])
        do {
            _ = try Config.parse(json: Data(#"{"source": "x", "tables": ["public.dotted.name"]}"#.utf8), environment: [:])
            XCTFail("an ambiguous name was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("tables: table names are schema.table, a part in double quotes"), "\(error)")
        }
    }

    func testSourceFromEnvironmentAndRedactionOfKeyValueStrings() throws {
        let c = try Config.parse(json: Data("{}".utf8), environment: ["FRESHET_SOURCE": "host=h password='a b' dbname=d"])
        XCTAssertEqual(c.redactedSource, "host=h password=*** dbname=d")
        XCTAssertEqual(ConfigRedaction.redact("host=h password=secret dbname=d"), "host=h password=*** dbname=d")
    }

    func testSchemaFileAcceptsTheExampleAndRejectsTypos() throws {
        // The JSON schema in Schemas/ must agree with the parser: validate with Python's jsonschema.
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas/config.schema.json").path
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        good = {"source": "postgresql://h/db", "tableSettings": {"shop.orders": {"partition": "day:created_at"}}, "batch": {"maxAgeMs": 100}}
        jsonschema.validate(good, schema)
        for bad in [{"source": "x", "batchh": {}}, {"source": "x", "slot": "Bad Slot"}, {"source": "x", "tableSettings": {"a.b": {"partition": "weekly:x"}}}]:
            try:
                jsonschema.validate(bad, schema); print("accepted", bad); sys.exit(1)
            except jsonschema.ValidationError:
                pass
        print("ok")
        """
        XCTAssertEqual(try Subprocess.python(script, [schema]).trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }
}

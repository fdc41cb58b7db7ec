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
         "batch": {"maxRows": 5000, "maxAgeMs": 250}, "metrics": {"listen": "off"}, "heartbeatSeconds": 2, "logFormat": "json",
         "streamInProgress": false}
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
        XCTAssertFalse(c.streamInProgress)
        XCTAssertTrue(Config(source: "x", store: "y").streamInProgress)
        XCTAssertEqual(c.redactedSource, "postgresql://u:***@127.0.0.1:5432/db")
    }

    func testErrorsNameTheFieldAndNeverThePassword() {
        func error(_ json: String) -> String {
            do { _ = try Config.parse(json: Data(json.utf8), environment: [:]); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(#"{"store": "x"}"#), "config: source: missing (set it in the file, with --source, or FRESHET_SOURCE)")
        XCTAssertTrue(error(#"{"source": "x", "batchh": {}}"#).hasPrefix("config: batchh: unknown field"))
        XCTAssertEqual(error(#"{"source": "x", "batch": {"maxRows": 0}}"#),
                       "config: batch.maxRows: must be a whole number from 1 to 1000000000, got 0.0")
        XCTAssertEqual(error(#"{"source": "x", "batch": {"maxRows": true}}"#), "config: batch.maxRows: must be a number")
        XCTAssertTrue(error(#"{"source": "x", "tableSettings": {"orders": {}}}"#).contains("tableSettings.orders: table names are schema.table"))
        XCTAssertTrue(error(#"{"source": "x", "tableSettings": {"a.b": {"partition": "weekly:x"}}}"#).contains("tableSettings.a.b.partition"))
        XCTAssertTrue(error(#"{"source": "x", "slot": "Bad Slot"}"#).hasPrefix("config: slot:"))
        XCTAssertTrue(error("{not json").hasPrefix("config: (file): not valid JSON"))
        XCTAssertEqual(error(#"{"source": "x", "streamInProgress": 1}"#), "config: streamInProgress: must be true or false")
        let leaked = error(#"{"source": "postgresql://u:hunter2@h/db", "logFormat": "xml"}"#)
        XCTAssertEqual(leaked, #"config: logFormat: must be "text" or "json""#)
    }

    func testOutOfRangeAndFractionalNumbersAreErrorsNamingTheField() {
        func error(_ json: String) -> String {
            do { _ = try Config.parse(json: Data(json.utf8), environment: [:]); return "no error" } catch { return "\(error)" }
        }
        // These crashed ("Double value cannot be converted to Int") before they were range-checked.
        for (json, field) in [(#"{"source": "x", "batch": {"maxRows": 1e30}}"#, "batch.maxRows"),
                              (#"{"source": "x", "batch": {"maxBytes": -1e300}}"#, "batch.maxBytes"),
                              (#"{"source": "x", "batch": {"maxAgeMs": 1.5}}"#, "batch.maxAgeMs"),
                              (#"{"source": "x", "batch": {"maxRows": 2.5}}"#, "batch.maxRows"),
                              (#"{"source": "x", "slotWarnBytes": 1e19}"#, "slotWarnBytes"),
                              (#"{"source": "x", "slotWarnBytes": 0.5}"#, "slotWarnBytes"),
                              (#"{"source": "x", "heartbeatSeconds": 1e300}"#, "heartbeatSeconds"),
                              (#"{"source": "x", "metrics": {"healthMaxLagSeconds": 1e300}}"#, "metrics.healthMaxLagSeconds")] {
            XCTAssertTrue(error(json).hasPrefix("config: \(field): must be"), "\(json) → \(error(json))")
        }
        XCTAssertEqual(try? Config.parse(json: Data(#"{"source": "x", "batch": {"maxRows": 1e3}}"#.utf8), environment: [:]).batch.maxRows, 1000)
    }

    func testInvalidJSONNamesLineAndColumnAndDuplicateKeysAreErrors() {
        func error(_ json: String) -> String {
            do { _ = try Config.parse(json: Data(json.utf8), environment: [:]); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("{\n  \"source\": \"x\",\n  \"slot\": \"s\"\n  \"store\": \"/tmp\"\n}"),
                       "config: (file): not valid JSON: line 4, column 3: expected ',' or '}'")
        XCTAssertEqual(error("{\"source\": \"x\", \"batch\": {\"maxRows\": 5,\n \"maxRows\": 6}}"),
                       "config: (file): not valid JSON: line 2, column 2: duplicate key \"batch.maxRows\"")
        XCTAssertEqual(error("{\"source\": \"x\", \"source\": \"y\"}"),
                       "config: (file): not valid JSON: line 1, column 17: duplicate key \"source\"")
        // Keys are compared after unescaping: "\u0073ource" is "source".
        XCTAssertTrue(error("{\"source\": \"x\", \"\\u0073ource\": \"y\"}").contains("duplicate key \"source\""))
        XCTAssertEqual(error("{\"source\": \"x\",}"), "config: (file): not valid JSON: line 1, column 16: expected a key in double quotes")
        XCTAssertEqual(error("{\"source\": \"é\", \"slot\": tru}"), "config: (file): not valid JSON: line 1, column 28: expected true")
        XCTAssertEqual(error("{\"source\": \"x\"} x"), "config: (file): not valid JSON: line 1, column 17: unexpected text after the JSON value")
        XCTAssertEqual(error("{\"source\": \"x"), "config: (file): not valid JSON: line 1, column 12: unterminated string")
        XCTAssertEqual(error("{\"a\": 01}"), "config: (file): not valid JSON: line 1, column 8: numbers do not start with 0")
        XCTAssertTrue(error(String(repeating: "[", count: 100_000)).contains("nested deeper than 512 levels"))
        XCTAssertEqual(error(""), "config: (file): not valid JSON: line 1, column 1: unexpected end of text, expected a value")
        // Duplicate keys in different objects are fine.
        XCTAssertEqual(error(#"{"source": "x", "tableSettings": {"a.b": {"key": ["id"]}, "a.c": {"key": ["id"]}}}"#), "no error")
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
        // An unencoded '@' in the password: hidden whole, never printed as part of the host.
        XCTAssertEqual(ConfigRedaction.redact("postgresql://u:top@secret@h:5432/db?sslmode=verify-full&x=a@b"),
                       "postgresql://u:***@h:5432/db?sslmode=verify-full&x=a@b")
        XCTAssertEqual(ConfigRedaction.redact("postgresql://u@h/db"), "postgresql://u@h/db")
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

import Foundation
import XCTest
@testable import ColumnStore

/// `TableName`: the CLI / config syntax and the store's directory names are unambiguous and read back.
final class TableNameTests: XCTestCase {
    /// Names that older versions of Freshet could not tell apart, or could not store at all.
    static let awkward: [TableName] = [
        TableName(schema: "public", table: "orders"),
        TableName(schema: "public.dotted", table: "name"),
        TableName(schema: "public", table: "dotted.name"),
        TableName(schema: "public", table: "a/b"),
        TableName(schema: "public", table: "it's \"quoted\""),
        TableName(schema: "my schema", table: " spaced "),
        TableName(schema: "public", table: ".hidden"),
        TableName(schema: "public", table: ".."),
        TableName(schema: "ünï", table: "表格😀"),
        TableName(schema: "public", table: "50%"),
        TableName(schema: "public", table: "50%25"),
        TableName(schema: "public", table: "tab\there\nnl"),
        TableName(schema: "public", table: "glob*?[a]{b,c}\\"),
        TableName(schema: "public", table: "x~0123456789abcdef"),
        TableName(schema: String(repeating: ".", count: 63), table: String(repeating: "/", count: 63)),
        TableName(schema: String(repeating: ".", count: 63), table: String(repeating: "/", count: 62) + "x"),
        TableName(schema: String(repeating: "é", count: 31), table: String(repeating: "%", count: 63)),
        TableName(schema: String(repeating: "s", count: 63), table: String(repeating: "t", count: 63)),
    ]

    func testQualifiedNamesQuoteOnlyWhatIsAmbiguousAndParseBack() throws {
        XCTAssertEqual(TableName(schema: "public", table: "orders").qualifiedName, "public.orders")
        XCTAssertEqual(TableName(schema: "public.dotted", table: "name").qualifiedName, "\"public.dotted\".name")
        XCTAssertEqual(TableName(schema: "public", table: "dotted.name").qualifiedName, "public.\"dotted.name\"")
        XCTAssertEqual(TableName(schema: "public", table: "say \"hi\"").qualifiedName, "public.\"say \"\"hi\"\"\"")
        XCTAssertEqual(TableName(schema: "public", table: "a/b c").qualifiedName, "public.a/b c")
        for name in Self.awkward {
            XCTAssertEqual(try TableName(parsing: name.qualifiedName), name, name.qualifiedName)
        }
        XCTAssertEqual(Set(Self.awkward.map(\.qualifiedName)).count, Self.awkward.count)
    }

    func testParsingAcceptsQuotedPartsAndRejectsAmbiguousText() throws {
        XCTAssertEqual(try TableName.canonical("\"public\".\"orders\""), "public.orders")
        XCTAssertEqual(try TableName.canonical("public.\"orders\""), "public.orders")
        XCTAssertEqual(try TableName(parsing: "\"public.dotted\".name"), TableName(schema: "public.dotted", table: "name"))
        XCTAssertEqual(try TableName(parsing: "public.\"dotted.name\""), TableName(schema: "public", table: "dotted.name"))
        XCTAssertEqual(try TableName(parsing: "Public.Orders"), TableName(schema: "Public", table: "Orders"), "not folded")
        for bad in ["public.dotted.name", "orders", "", ".orders", "public.", "\"public.orders", "public.\"a\"b",
                    "pu\"blic\".x", "\"\".x", "public..x"] {
            XCTAssertThrowsError(try TableName(parsing: bad), bad) { e in
                XCTAssertTrue("\(e)".contains("schema.table"), "\(e)")
            }
        }
    }

    func testDirectoryNamesAreDistinctSafeAndReadBack() throws {
        // Plain names keep the layout every existing store has.
        XCTAssertEqual(TableName(schema: "public", table: "orders").directoryName, "public.orders")
        XCTAssertEqual(TableName(schema: "my schema", table: "Ünï").directoryName, "my schema.Ünï")
        XCTAssertEqual(TableName(schema: "public.dotted", table: "name").directoryName, "public%2Edotted.name")
        XCTAssertEqual(TableName(schema: "public", table: "dotted.name").directoryName, "public.dotted%2Ename")
        XCTAssertEqual(TableName(schema: "public", table: "a/b").directoryName, "public.a%2Fb")
        XCTAssertEqual(TableName(schema: "public", table: ".hidden").directoryName, "public.%2Ehidden")
        let dirs = Self.awkward.map(\.directoryName)
        XCTAssertEqual(Set(dirs).count, dirs.count, "\(dirs)")
        for (name, dir) in zip(Self.awkward, dirs) {
            XCTAssertLessThanOrEqual(dir.utf8.count, 255, dir)
            XCTAssertFalse(dir.contains("/"), dir)
            XCTAssertFalse(dir.hasPrefix("."), dir)
            XCTAssertFalse(dir.unicodeScalars.contains { $0.value < 0x20 }, dir)
            if dir.utf8.count <= BoundedName.maxPlainBytes {
                XCTAssertEqual(TableName(directoryName: dir), name, dir)
            } else {
                XCTAssertTrue(dir.contains("~"), dir)
                XCTAssertNil(TableName(directoryName: dir), "a hashed directory is named by its manifest")
            }
        }
        // 63 dots and 63 slashes need 379 bytes: cut and hashed, differing only in the hash.
        let long = Self.awkward[14].directoryName, long2 = Self.awkward[15].directoryName
        XCTAssertGreaterThan(long.utf8.count, BoundedName.maxPlainBytes)
        XCTAssertNotEqual(long, long2)
        XCTAssertEqual(long.dropLast(17), long2.dropLast(17))
        // Texts `directoryName` never produces do not read back (each table has exactly one directory).
        for other in ["public.a%2fb", "public.a%2", "public.a%zz", "public%2Edotted.name.x", "public.%41", "public.", "a.b/c"] {
            XCTAssertNil(TableName(directoryName: other), other)
        }
    }
}

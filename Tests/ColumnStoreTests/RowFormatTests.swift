import XCTest
@testable import ColumnStore

/// CSV fields (RFC 4180): quoted exactly when they hold a comma, a quote, CR or LF (also as one "\r\n" Character),
/// or are empty strings (NULL is the empty unquoted field).
final class RowFormatTests: XCTestCase {
    func testCSVFieldQuoting() {
        XCTAssertEqual(RowFormat.csvField("plain"), "plain")
        XCTAssertEqual(RowFormat.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(RowFormat.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(RowFormat.csvField("line\nbreak"), "\"line\nbreak\"")
        XCTAssertEqual(RowFormat.csvField("cr\rlf"), "\"cr\rlf\"")
        XCTAssertEqual(RowFormat.csvField("crlf\r\nline"), "\"crlf\r\nline\"")
        XCTAssertEqual(RowFormat.csvField("e\u{301}t\u{e9} ✓"), "e\u{301}t\u{e9} ✓")
        XCTAssertEqual(RowFormat.csvField(""), "")
        XCTAssertEqual(RowFormat.csvField("", quoteEmpty: true), "\"\"")
    }

    func testJSONString() {
        XCTAssertEqual(RowFormat.jsonString("plain"), "\"plain\"")
        XCTAssertEqual(RowFormat.jsonString("q\"b\\n\nr\rt\t"), "\"q\\\"b\\\\n\\nr\\rt\\t\"")
        XCTAssertEqual(RowFormat.jsonString("\u{01}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"")
        XCTAssertEqual(RowFormat.jsonString("e\u{301}t\u{e9} ✓ 😀"), "\"e\u{301}t\u{e9} ✓ 😀\"")
        XCTAssertEqual(RowFormat.jsonString(""), "\"\"")
    }
}

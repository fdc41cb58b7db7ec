import XCTest
@testable import ColumnStore

/// CSV fields (RFC 4180) and JSON string literals as `freshet scan` writes them.
final class RowFormatTests: XCTestCase {
    /// Quoted exactly when a field holds a comma, a quote, CR or LF (also as one "\r\n" Character), or is an empty
    /// string (NULL is the empty unquoted field).
    func testCSVFieldQuoting() {
        let cases: [(String, String)] = [
            ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("line\nbreak", "\"line\nbreak\""),
            ("cr\rlf", "\"cr\rlf\""), ("crlf\r\nline", "\"crlf\r\nline\""), ("e\u{301}t\u{e9} ✓", "e\u{301}t\u{e9} ✓"), ("", ""),
        ]
        for (field, csv) in cases { XCTAssertEqual(RowFormat.csvField(field), csv, field) }
        XCTAssertEqual(RowFormat.csvField("", quoteEmpty: true), "\"\"")
    }

    /// Quotes, backslashes, \n, \r, \t escaped; other control characters as \u00XX; everything else as it is.
    func testJSONString() {
        let cases: [(String, String)] = [
            ("plain", "\"plain\""), ("q\"b\\n\nr\rt\t", "\"q\\\"b\\\\n\\nr\\rt\\t\""),
            ("\u{01}\u{1f}\u{7f}", "\"\\u0001\\u001f\u{7f}\""), ("e\u{301}t\u{e9} ✓ 😀", "\"e\u{301}t\u{e9} ✓ 😀\""), ("", "\"\""),
        ]
        for (text, json) in cases { XCTAssertEqual(RowFormat.jsonString(text), json, text) }
    }
}

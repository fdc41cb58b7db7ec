import XCTest
@testable import PostgresReplication

final class LSNTests: XCTestCase {
    func testParsesAndPrintsTextForm() {
        XCTAssertEqual(LSN("16/B374D848")?.value, 0x16_B374_D848)
        XCTAssertEqual(LSN("16/b374d848")?.value, 0x16_B374_D848)
        XCTAssertEqual(LSN("0/0"), .zero)
        XCTAssertEqual(LSN("FFFFFFFF/FFFFFFFF")?.value, .max)
        XCTAssertEqual(LSN(0x16_B374_D848).description, "16/B374D848")
        XCTAssertEqual(LSN(0).description, "0/0")
        XCTAssertEqual(LSN(0x1_0000_0001).description, "1/1")
        XCTAssertEqual(LSN(.max).description, "FFFFFFFF/FFFFFFFF")
    }

    func testRoundTripsTextForm() {
        for value: UInt64 in [0, 1, 0xFFFF_FFFF, 0x1_0000_0000, 0xABCD_EF01_2345_6789, .max] {
            XCTAssertEqual(LSN(LSN(value).description), LSN(value))
        }
    }

    func testRejectsGarbage() {
        for text in ["", "/", "0/", "/0", "0", "0/0/0", "G/0", "0/0x1", "100000000/0", "0/100000000",
                     " 0/0", "0/0 ", "-1/0", "+1/0", "1/2a!", "１/2"] {
            XCTAssertNil(LSN(text), text)
        }
    }

    func testOrderingAndArithmetic() {
        let a = LSN("1/10")!, b = LSN("1/20")!
        XCTAssertLessThan(a, b)
        XCTAssertEqual(a + 0x10, b)
        XCTAssertEqual(b - a, 0x10)
        XCTAssertEqual(a - b, 0, "distance saturates at zero")
        XCTAssertEqual(LSN(.max - 1) + 5, LSN(.max), "addition saturates")
        XCTAssertFalse(LSN.invalid.isValid)
        XCTAssertTrue(a.isValid)
    }
}

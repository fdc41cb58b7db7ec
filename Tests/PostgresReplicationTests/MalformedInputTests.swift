import TestSupport
import XCTest
@testable import PostgresReplication


/// Corrupted input must end in a typed error (or a valid decode), never a trap or a runaway allocation.
final class MalformedInputTests: XCTestCase {
    /// A decoder in the state each fixture group expects: (decoder factory, fixtures).
    private var groups: [(() -> PgOutputDecoder, [[UInt8]])] {
        [
            ({ PgOutputDecoder(protocolVersion: 1) }, PgOutputFixtures.plain),
            ({
                var decoder = PgOutputDecoder(protocolVersion: 2)
                _ = try? decoder.decode(PgOutputFixtures.streamStart)
                return decoder
            }, PgOutputFixtures.streamed),
            ({ PgOutputDecoder(protocolVersion: 4) }, PgOutputFixtures.outsideStreamV4),
            ({ PgOutputDecoder(protocolVersion: 1) }, RealServerFixtures.textMode.map(hex) + RealServerFixtures.binaryMode.map(hex)),
        ]
    }

    /// Decodes and accepts either success or a PgOutputError; anything else fails the test.
    private func decodeOrTypedError(_ decoder: inout PgOutputDecoder, _ bytes: [UInt8]) {
        do {
            _ = try decoder.decode(bytes)
        } catch {
            // `decode` throws only PgOutputError (typed throws); reaching here is a typed failure.
            _ = error.description
        }
    }

    func testEveryTruncationThrowsTruncationOrCountError() {
        for (makeDecoder, fixtures) in groups {
            for fixture in fixtures {
                for length in 0..<fixture.count {
                    // The first 9 bytes of a parallel Stream Abort are a complete non-parallel one.
                    if fixture == PgOutputFixtures.streamAbortParallel && length == 9 { continue }
                    var decoder = makeDecoder()
                    XCTAssertThrowsError(try decoder.decode(Array(fixture[..<length])),
                                         "prefix \(length) of \(fixture)") { error in
                        XCTAssertTrue(error is PgOutputError)
                    }
                }
            }
        }
    }

    func testRandomBitFlipsAndByteStompsNeverCrash() {
        var random = SeededRandom(seed: 0xF4E5_11E7)
        for (makeDecoder, fixtures) in groups {
            for fixture in fixtures {
                for _ in 0..<2_000 {
                    var bytes = fixture
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        let index = Int.random(in: 0..<bytes.count, using: &random)
                        if Bool.random(using: &random) {
                            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                        } else {
                            bytes[index] = [0x00, 0xFF, 0x7F, 0x80, 0x4E, 0x74][Int.random(in: 0..<6, using: &random)]
                        }
                    }
                    if Bool.random(using: &random) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
                    var decoder = makeDecoder()
                    decodeOrTypedError(&decoder, bytes)
                }
            }
        }
    }

    func testRandomGarbageNeverCrashes() {
        var random = SeededRandom(seed: 42)
        let kinds = Array("BCORYIUDTMSEcAbPKrp".utf8)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<64, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = kinds[Int.random(in: 0..<kinds.count, using: &random)] }
            var decoder = PgOutputDecoder(protocolVersion: 4)
            decodeOrTypedError(&decoder, bytes)
        }
    }

    func testHugeCountsFailFast() {
        // Relation announcing 32767 columns, Truncate announcing 2^31-1 relations, Message 2^31-1 content bytes.
        for bytes in [hex(#"52 00004000 "s" 00 "t" 00 64 7FFF 01 "id" 00"#),
                      hex("54 7FFFFFFF 00 0000"),
                      hex(#"4D 01 0000000000000000 "p" 00 7FFFFFFF 00"#),
                      hex(#"4D 01 0000000000000000 "p" 00 FFFFFFFF"#)] {
            var decoder = PgOutputDecoder()
            XCTAssertThrowsError(try decoder.decode(bytes)) { error in
                guard case .invalidCount = error as? PgOutputError else { return XCTFail("\(error)") }
            }
        }
    }
}

final class MalformedCopyInputTests: XCTestCase {
    func testCorruptCopyStreamsThrowTypedErrorsOrDecode() {
        var random = SeededRandom(seed: 0xC0B1)
        let stream = BinaryCopyFixtures.stream(BinaryCopyFixtures.rows(20))
        for _ in 0..<3_000 {
            var bytes = stream
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            }
            if Bool.random(using: &random) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
            var reader = BinaryCopyReader(maxFieldBytes: 1 << 20)
            do {
                var offset = 0
                while offset < bytes.count {
                    let size = min(Int.random(in: 1...64, using: &random), bytes.count - offset)
                    reader.feed(Array(bytes[offset..<offset + size]))
                    offset += size
                    while try reader.nextRow() {
                        for field in 0..<reader.fieldCount { _ = reader.field(field) }
                    }
                }
                try reader.finish()
            } catch {
                _ = error as BinaryCopyError
            }
        }
    }
}

final class MalformedValueInputTests: XCTestCase {
    private static let oids: [UInt32] = [TypeOID.bool, TypeOID.int2, TypeOID.int4, TypeOID.int8, TypeOID.float4, TypeOID.float8,
                                         TypeOID.numeric, TypeOID.date, TypeOID.timestamp, TypeOID.timestamptz, TypeOID.uuid,
                                         TypeOID.bytea, TypeOID.json, TypeOID.jsonb, TypeOID.text, TypeOID.int4Array]

    /// Valid text forms, mutated: each parse must return a value or throw ValueParseError.
    func testMutatedTextValuesThrowTypedErrors() {
        let seeds = ["t", "-32768", "9223372036854775807", "1e+100", "-Infinity", "-92233720368547758.08", "0.000001",
                     "0044-03-15 BC", "2024-01-02 03:04:05.123456+05:30", "12345-06-07 00:00:00.000001+00 BC",
                     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", #"\x00ff"#, #"{"a": 1}"#, "{1,2,NULL}"]
        var random = SeededRandom(seed: 99)
        for _ in 0..<20_000 {
            var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8)
            for _ in 0..<Int.random(in: 0...3, using: &random) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = Array("0123456789-+.: BCxe".utf8)[Int.random(in: 0..<19, using: &random)]
                case 1: bytes.remove(at: index)
                default: bytes.insert(Array("09-:.".utf8)[Int.random(in: 0..<5, using: &random)], at: index)
                }
            }
            let oid = Self.oids[Int.random(in: 0..<Self.oids.count, using: &random)]
            do {
                _ = try bytes.withUnsafeBytes { raw throws(ValueParseError) in try TextValueParser.value(typeOID: oid, bytes: raw) }
                _ = try bytes.withUnsafeBytes { raw throws(ValueParseError) in try TextValueParser.parseNumericUnscaledInt64(raw, scale: 4) }
            } catch {
                XCTAssertTrue(error is ValueParseError, "\(error)")
            }
        }
    }

    /// Random binary values of every type (numeric with random header words included).
    func testRandomBinaryValuesThrowTypedErrors() {
        var random = SeededRandom(seed: 1_234)
        for _ in 0..<50_000 {
            let length = [0, 1, 2, 4, 8, 10, 12, 16, 17][Int.random(in: 0..<9, using: &random)]
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if length >= 8, Bool.random(using: &random) {
                bytes[0] = 0; bytes[1] = UInt8((length - 8) / 2)      // consistent ndigits
                bytes[4] = [0x00, 0x40, 0xC0, 0xD0, 0xF0][Int.random(in: 0..<5, using: &random)]; bytes[5] = 0
            }
            let oid = Self.oids[Int.random(in: 0..<Self.oids.count, using: &random)]
            let scale = Int.random(in: -2...40, using: &random)
            do {
                _ = try bytes.withUnsafeBytes { raw throws(ValueParseError) in try BinaryValueParser.value(typeOID: oid, bytes: raw) }
                _ = try bytes.withUnsafeBytes { raw throws(ValueParseError) in try BinaryValueParser.parseNumericUnscaledInt64(raw, scale: scale) }
            } catch {
                XCTAssertTrue(error is ValueParseError, "\(error)")
            }
        }
    }
}

import XCTest
@testable import PostgresReplication

/// A small deterministic RNG (SplitMix64) so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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

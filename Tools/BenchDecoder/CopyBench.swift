// The COPY binary leg of bench-decoder: BinaryCopyReader throughput on a synthetic orders-like stream.
import Foundation
import PostgresReplication

/// A `COPY … (FORMAT binary)` stream of `rows` rows of an orders-like table (int8, int4, text, numeric-sized
/// bytes, timestamptz, NULL, bool), ending with the trailer.
func syntheticCopyStream(rows: Int) -> [UInt8] {
    var out: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    func field(_ bytes: [UInt8]) {
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out += $0 }
        out += bytes
    }
    func int(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
    for id in 0..<rows {
        withUnsafeBytes(of: UInt16(7).bigEndian) { out += $0 }
        field(int(UInt64(id), 8))
        field(int(UInt64(id % 1000), 4))
        field(Array("customer-\(id % 977)@example.com".utf8))
        field(int(UInt64(id) &* 2_654_435_761, 12))
        field(int(UInt64(800_000_000_000_000 + id), 8))
        withUnsafeBytes(of: UInt32.max.bigEndian) { out += $0 }   // NULL
        field([id % 2 == 0 ? 1 : 0])
    }
    withUnsafeBytes(of: UInt16.max.bigEndian) { out += $0 }
    return out
}

/// Feeds `stream` in 64 KiB chunks and visits every field of every row; returns rows, seconds and a checksum.
func runCopy(_ stream: [UInt8]) throws -> (rows: Int, seconds: Double, checksum: Int64) {
    var reader = BinaryCopyReader()
    var checksum: Int64 = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var offset = 0
    while offset < stream.count {
        let end = min(offset + 65_536, stream.count)
        stream.withUnsafeBytes { reader.feed(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
        offset = end
        while try reader.nextRow() {
            reader.forEachField { _, value in checksum &+= Int64(value?.count ?? -1) }
        }
    }
    try reader.finish()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (reader.rowCount, seconds, checksum)
}

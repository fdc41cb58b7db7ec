/// CRC-32 (the zlib / IEEE polynomial, so `zlib.crc32` checks it too) of part files, written `crc32:xxxxxxxx`.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private var crc: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = crc
        CRC32.table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        crc = c
    }

    var value: UInt32 { crc ^ 0xFFFF_FFFF }

    static func of(_ bytes: [UInt8]) -> String {
        var c = CRC32()
        bytes.withUnsafeBytes { c.update($0) }
        let hex = String(c.value, radix: 16)
        return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}

import CLZ4

/// LZ4_RAW (Parquet codec 7): plain LZ4 blocks through liblz4's block API, one block per page.
enum LZ4Codec {
    /// Compresses `src` into one LZ4 block.
    static func compress(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        // An empty input still needs a valid block (a single zero token).
        guard src.count > 0 else { return [0] }
        let bound = Int(LZ4_compressBound(Int32(clamping: src.count)))
        return [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            let written = LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                               UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: CChar.self),
                                               Int32(src.count), Int32(bound))
            // LZ4_compress_default only fails when the destination is too small, which compressBound rules out.
            precondition(written > 0, "LZ4_compress_default failed")
            initialized = Int(written)
        }
    }

    /// Compresses `src` as one LZ4 block into the start of `out` and returns its size. `out` is grown (never shrunk)
    /// to the bound LZ4 needs, so a buffer reused across pages is allocated and zeroed once.
    static func compress(_ src: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Int {
        let bound = Int(LZ4_compressBound(Int32(clamping: src.count)))
        if out.count < max(bound, 1) { out.append(contentsOf: repeatElement(0, count: max(bound, 1) - out.count)) }
        // An empty input still needs a valid block (a single zero token).
        guard src.count > 0 else { out[0] = 0; return 1 }
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                 dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(src.count), Int32(bound))
        }
        // LZ4_compress_default only fails when the destination is too small, which compressBound rules out.
        precondition(written > 0, "LZ4_compress_default failed")
        return Int(written)
    }

    /// Decompresses one block that must expand to exactly `uncompressedSize` bytes; nil when the input is corrupt.
    static func decompress(_ src: UnsafeRawBufferPointer, uncompressedSize: Int) -> [UInt8]? {
        guard uncompressedSize >= 0, src.count <= Int(Int32.max), uncompressedSize <= Int(Int32.max) else { return nil }
        if uncompressedSize == 0 { return [] }
        guard src.count > 0 else { return nil }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: uncompressedSize) { dst, initialized in
            let n = LZ4_decompress_safe(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                        UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self),
                                        Int32(src.count), Int32(uncompressedSize))
            ok = n == Int32(uncompressedSize)
            // On failure the bytes are not trusted; zero them so the array is fully initialised either way.
            if !ok { dst.initialize(repeating: 0) }
            initialized = uncompressedSize
        }
        return ok ? out : nil
    }
}

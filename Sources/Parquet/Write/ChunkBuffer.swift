#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable byte buffer for one column chunk's pages, with room that can be written before it is counted: a page is
/// compressed straight into the buffer behind its header (no intermediate page-sized array and no copy of the
/// compressed bytes). The memory is reused from chunk to chunk (`removeAll` keeps it) and grows with `realloc`, which
/// moves large blocks by remapping rather than copying. Not thread-safe; owned by one `ColumnChunkWriter`.
final class ChunkBuffer {
    private var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    /// Bytes written and counted.
    private(set) var count = 0

    init() {}

    deinit { free(base) }

    /// Makes room for at least `extra` more bytes and returns where they start (at `count`).
    func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        let need = count + extra
        if need > capacity {
            let grown = max(need, capacity + capacity / 2, 4096)
            guard let p = realloc(base, grown) else { fatalError("ChunkBuffer: out of memory for \(grown) bytes") }
            base = p
            capacity = grown
        }
        return base! + count
    }

    /// Counts `n` bytes written into the room `reserve` returned.
    func commit(_ n: Int) {
        precondition(n >= 0 && count + n <= capacity, "ChunkBuffer.commit beyond the reserved room")
        count += n
    }

    /// Appends bytes.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends an array of bytes.
    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Moves bytes `range` (already written) to start at `to`, e.g. to close a gap left in front of them.
    func move(_ range: Range<Int>, to: Int) {
        guard let b = base, range.count > 0 else { return }
        precondition(range.upperBound <= capacity && to + range.count <= capacity, "ChunkBuffer.move out of bounds")
        memmove(b + to, b + range.lowerBound, range.count)
    }

    /// Runs `body` on the counted bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Forgets the bytes, keeping the memory.
    func removeAll() { count = 0 }

    /// Frees the memory.
    func release() {
        free(base)
        base = nil
        capacity = 0
        count = 0
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Freshet's memory bound, in one place (docs/replication.md "Memory"). Peak RSS stays under about 300 MB whatever
/// the schema, the transaction or the table size, because every holder of rows is bounded in real bytes:
///
/// | holder | bound |
/// |---|---|
/// | replication messages queued for the apply thread | `queueBytes`, counting each message's payload plus `queuedMessageOverhead` |
/// | pending stream batches (all tables) | `Config.BatchLimits.maxBytes` (32 MiB), plus one row group's worth while a batch is staged (`PartWriter` gathers the rows in key order a row group at a time, never a sorted copy of the whole batch); a large transaction's chunks are staged once its own rows reach half that, one staging while the next fills (`ChunkStaging`) |
/// | snapshot and resync workers | the same batch limits, shared among the workers |
/// | streamed in-progress transactions (`streamInProgress`) | one 1 MiB spool write buffer; replay reads 4 MiB chunks (`StreamedTransactions`) |
/// | a part's row group, written or read | `StoreOptions.rowGroupBytes` (4 MiB); a merge holds one per input (at most `mergeMaxParts`, 8) plus its output's |
///
/// glibc gives each thread that allocates its own malloc arena (up to 8 per core), and memory freed in one arena is
/// not reused by another: `limitMallocArenas` caps them at two.
public enum MemoryBudget {
    /// Bytes of replication messages waiting for the apply thread.
    public static let queueBytes = 32 << 20
    /// What one queued message costs beyond its payload: its `Data` storage object, allocator rounding, and its slot
    /// in a chunk array (measured: about 150 bytes).
    public static let queuedMessageOverhead = 160

    /// Caps glibc's malloc arenas at two (unless `MALLOC_ARENA_MAX` is set): with an arena per thread, the memory a
    /// snapshot worker or the merger freed stays reserved in its arena. Measured on a 200k-row transaction of 2.6 kB
    /// rows: peak RSS 245 MB with the default arenas, 198 MB with two.
    public static func limitMallocArenas() {
        #if canImport(Glibc)
        // Swift's Glibc module does not export mallopt: look it up. M_ARENA_MAX is -8 in glibc's malloc.h.
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 2)
        #endif
    }
}

import ColumnStore
import Foundation

// store-torture: commits deterministic changes to a store in a loop, printing "committed LSN" after each commit
// returns, with merges in between; killed with SIGKILL by ColumnStoreTests.KillTests.
//   store-torture run DIR [ROWS]     resume from the store's checkpoint and commit forever
//   store-torture overlap DIR [ROWS] the same with overlapping commits (Store.prepareCommit of commit i+1 while
//                                    commit i is finished on another thread), as the stream's committer makes them
//   store-torture verify DIR         replay the generator up to the checkpoint and compare with the FINAL reader
//   store-torture bench DIR ROWS     the benchmark (Tools/bench-store)

let table = "public.torture"
let columns: [ColumnDefinition] = [.init("id", .int64, nullable: false), .init("val", .int64), .init("big", .string)]
let identity = StoreIdentity(systemIdentifier: "7000000000000000042", slot: "torture", publication: "torture")

struct Row: Equatable { var val: Int64; var big: String }

/// SplitMix64: the same stream for the same seed.
struct Random {
    var s: UInt64
    mutating func next(_ n: Int) -> Int {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
}

func lsnOf(_ commit: UInt64) -> UInt64 { 1000 + commit * 10 }

/// The changes of commit number `i`: applies them to `model` and, when `batch` is given, appends them.
func generate(_ i: UInt64, rows: Int, model: inout [Int64: Row], batch: UnsafeMutablePointer<RowBatch>?) {
    var rng = Random(s: i &* 7919)
    let lsn = lsnOf(i)
    var seen = Set<Int64>()
    for _ in 0..<rows {
        let id = Int64(rng.next(2000))
        guard seen.insert(id).inserted else { continue }
        let dice = rng.next(10)
        if dice < 2 {
            model[id] = nil
            batch?.pointee.append(id, column: 0)
            batch?.pointee.finishTombstone(version: lsn)
        } else if dice < 5, var old = model[id] {
            old.val = Int64(lsn)
            model[id] = old
            if let b = batch {
                b.pointee.append(id, column: 0); b.pointee.append(Int64(lsn), column: 1); b.pointee.appendUnchanged(column: 2)
                b.pointee.finishRow(version: lsn)
            }
        } else {
            let row = Row(val: Int64(lsn), big: String(repeating: "b\(id % 7)", count: 1 + rng.next(30)))
            model[id] = row
            if let b = batch {
                b.pointee.append(id, column: 0); b.pointee.append(row.val, column: 1); b.pointee.append(row.big, column: 2)
                b.pointee.finishRow(version: lsn)
            }
        }
    }
}

func replay(upTo checkpoint: UInt64, rows: Int) -> (model: [Int64: Row], next: UInt64) {
    var model = [Int64: Row]()
    var i: UInt64 = 1
    while lsnOf(i) <= checkpoint {
        generate(i, rows: rows, model: &model, batch: nil)
        i += 1
    }
    return (model, i)
}

/// The torture store, opened (and its table defined) with small row groups, eager merges and no grace period; the
/// merger runs every 10 ms.
func openTortureStore(_ dir: URL) throws -> Store {
    var options = StoreOptions()
    options.gracePeriod = 0
    options.rowGroupRows = 64
    options.mergeFanIn = 3
    let store = try Store.open(at: dir, identity: identity, options: options)
    try store.defineTable(table, schema: TableSchema(columns: columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2))
    store.startMerger(interval: 0.01)
    return store
}

func run(_ dir: URL, rows: Int) throws {
    let store = try openTortureStore(dir)
    var (model, i) = replay(upTo: store.checkpointLSN, rows: rows)
    while true {
        var batch = RowBatch(columns: columns)
        generate(i, rows: rows, model: &model, batch: &batch)
        var commit = StoreCommit(upTo: lsnOf(i))
        commit.add(try store.stage(batch, table: table))
        try store.commit(commit)
        print("committed \(lsnOf(i))")
        fflush(nil)
        if i % 5 == 0 { try store.mergeDue(table) }
        i += 1
    }
}

func runOverlapping(_ dir: URL, rows: Int) throws {
    let store = try openTortureStore(dir)
    var (model, i) = replay(upTo: store.checkpointLSN, rows: rows)
    let finisher = DispatchQueue(label: "torture.finisher")
    nonisolated(unsafe) var finishError: Error?
    var pending: PreparedCommit?
    store.beginCommits()
    while true {
        var batch = RowBatch(columns: columns)
        generate(i, rows: rows, model: &model, batch: &batch)
        var commit = StoreCommit(upTo: lsnOf(i))
        commit.add(try store.stage(batch, table: table))
        // Finish the previous commit on the finisher thread while this one is prepared on top of it.
        let group = DispatchGroup()
        if let previous = pending {
            finisher.async(group: group) {
                do {
                    try store.finishCommit(previous)
                    print("committed \(previous.upTo)")
                    fflush(nil)
                } catch { finishError = error }
            }
        }
        let prepared = try store.prepareCommit(commit, after: pending)
        group.wait()
        if let finishError { throw finishError }
        pending = prepared
        if i % 5 == 0 {
            // The run of overlapping commits ends (nothing prepared is left unfinished) so a merge can install.
            try store.finishCommit(prepared)
            print("committed \(prepared.upTo)")
            fflush(nil)
            pending = nil
            store.endCommits()
            try store.mergeDue(table)
            store.beginCommits()
        }
        i += 1
    }
}

func verify(_ dir: URL, rows: Int) throws {
    var o = StoreOptions()
    o.readOnly = true
    let store = try Store.open(at: dir, options: o)
    let problems = store.verify()
    guard problems.isEmpty else { print("corrupt: \(problems)"); exit(1) }
    // A kill between a commit's manifest rename and its checkpoint rename leaves the table one commit ahead of the
    // store's checkpoint (by design: the commit is replayed, idempotently, from the checkpoint). The table must equal
    // the model at its own committed LSN, which is never below the checkpoint.
    let checkpoint = try store.committedLSN(table)
    guard checkpoint >= store.checkpointLSN else { print("table behind the checkpoint: \(checkpoint) < \(store.checkpointLSN)"); exit(1) }
    let (model, _) = replay(upTo: checkpoint, rows: rows)
    var reader = try store.read(table)
    var got = [Int64: Row]()
    while let b = try reader.next() {
        for r in 0..<b.count {
            guard let big = b.string(r, 2) else { print("mismatch: NULL big for \(b.int64(r, 0))"); exit(1) }
            got[b.int64(r, 0)] = Row(val: b.int64(r, 1), big: big)
        }
    }
    guard got == model else {
        let bad = model.keys.filter { got[$0] != model[$0] }.count + got.keys.filter { model[$0] == nil }.count
        print("mismatch: \(bad) keys differ at checkpoint \(checkpoint)")
        exit(1)
    }
    print("ok checkpoint \(checkpoint) rows \(got.count) table-lsn \(try store.committedLSN(table)) parts \(try store.manifest(table).parts.count)")
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: store-torture run|overlap|verify|bench DIR [ROWS]\n".utf8))
    exit(2)
}
let dir = URL(fileURLWithPath: args[2])
let rows = args.count > 3 ? Int(args[3]) ?? 40 : 40
do {
    switch args[1] {
    case "run": try run(dir, rows: rows)
    case "overlap": try runOverlapping(dir, rows: rows)
    case "verify": try verify(dir, rows: rows)
    case "bench": try bench(dir, rows: rows)
    default: FileHandle.standardError.write(Data("unknown mode \(args[1])\n".utf8)); exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("store-torture: \(error)\n".utf8))
    exit(1)
}

import Foundation

/// The store's manifest-writer token (`Store.manifestWriters`): one holder at a time, granted in the order asked
/// (a ticket lock). Unlike a mutex it may be released by another thread than the one that took it, so a run of
/// overlapping stream commits (`Store.prepareCommit` on one thread, `Store.finishCommit` on another) holds it as a
/// whole. `waiting` tells that holder that another writer (a merge's install, a table definition) is queued, so it
/// stops overlapping and lets the token go.
final class WriterToken: @unchecked Sendable {
    private let condition = NSCondition()
    private var nextTicket = 0
    private var serving = 0

    /// Waits for the token (first come, first served).
    func acquire() {
        condition.lock(); defer { condition.unlock() }
        let ticket = nextTicket
        nextTicket += 1
        while serving != ticket { condition.wait() }
    }

    /// Hands the token to the next writer in line (any thread may call it, once per `acquire`).
    func release() {
        condition.lock(); defer { condition.unlock() }
        serving += 1
        condition.broadcast()
    }

    /// True when another writer waits for the token.
    var waiting: Bool { condition.lock(); defer { condition.unlock() }; return nextTicket - serving > 1 }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        acquire()
        defer { release() }
        return try body()
    }
}

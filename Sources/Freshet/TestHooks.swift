import Foundation

/// Fault injection for the test suite, read from the environment. **Test-only**: never set these in production;
/// unset, they change nothing.
enum TestHooks {
    /// `FRESHET_TEST_COMMIT_DELAY_MS`: the first stream commit that carries rows in this process sleeps this many
    /// milliseconds before it writes (a stalled disk), so a test can hold the apply side while the source keeps sending.
    static let firstCommitDelay: Double? = ProcessInfo.processInfo.environment["FRESHET_TEST_COMMIT_DELAY_MS"]
        .flatMap(Double.init).map { $0 / 1000 }
    private static let delayed = AtomicFlag()

    /// Sleeps `firstCommitDelay` the first time it is called in this process; returns at once otherwise.
    static func delayFirstRowCommit() {
        guard let delay = firstCommitDelay, !delayed.isSet else { return }
        delayed.set()
        Thread.sleep(forTimeInterval: delay)
    }

    /// `FRESHET_TEST_EXIT_AFTER_SLOT_CREATE=1`: the process ends at once (as a SIGKILL would) right after
    /// `CREATE_REPLICATION_SLOT` succeeded and before the ledger records the slot as created.
    static func exitIfAskedAfterSlotCreation() {
        guard ProcessInfo.processInfo.environment["FRESHET_TEST_EXIT_AFTER_SLOT_CREATE"] == "1" else { return }
        _exit(137)
    }

    /// `FRESHET_TEST_PAUSE_BEFORE_SLOT_CREATE=PATH`: before creating the snapshot's slot (after planning the tables),
    /// the process creates `PATH.waiting` and waits (at most 120 s) until `PATH` exists, so a test can change the
    /// source's tables in that window.
    static func pauseIfAskedBeforeSlotCreation() {
        pause(ifAskedBy: "FRESHET_TEST_PAUSE_BEFORE_SLOT_CREATE")
    }

    /// `FRESHET_TEST_PAUSE_BEFORE_CATALOG_CHECK=PATH`: before the catalog watcher's first check of a run (after the
    /// snapshot, before streaming), the process creates `PATH.waiting` and waits (at most 120 s) until `PATH` exists,
    /// so a test can change the source's catalog between the snapshot and that check.
    static func pauseIfAskedBeforeFirstCatalogCheck() {
        pause(ifAskedBy: "FRESHET_TEST_PAUSE_BEFORE_CATALOG_CHECK")
    }

    /// The gate behind the pause hooks: `PATH.waiting` is created, then `PATH` awaited (at most 120 s).
    private static func pause(ifAskedBy variable: String) {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return }
        FileManager.default.createFile(atPath: path + ".waiting", contents: Data())
        let end = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: path) && Date() < end { usleep(20_000) }
    }
}

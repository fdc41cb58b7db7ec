import Foundation
import XCTest
import TestSupport
@testable import ColumnStore

/// Directory of the built executables (`freshet`, `store-torture`), next to the test bundle.
func productsDirectory() -> URL {
    for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { return b.bundleURL.deletingLastPathComponent() }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

func builtExecutable(_ name: String) throws -> String {
    let path = productsDirectory().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        try TestEnvironment.unavailable("\(name) not built at \(path): run `swift build` first")
    }
    return path
}

/// Kill -9 at random moments: every LSN the torture process printed as committed must survive, and the store must
/// equal the generator's model at its checkpoint.
final class KillTests: XCTestCase {
    func testSigkillDuringCommitsAndMerges() throws {
        try killRounds(mode: "run")
    }

    /// The same with overlapping commits (commit i+1 prepared while commit i is finished, as the stream does):
    /// the checkpoint still passes only durable commits, in order.
    func testSigkillDuringOverlappingCommitsAndMerges() throws {
        try killRounds(mode: "overlap")
    }

    private func killRounds(mode: String) throws {
        let torture = try builtExecutable("store-torture")
        let dir = try makeTempDirectory(self)
        var rng = SeededRandom(seed: 42)
        var printed = [UInt64]()
        for round in 0..<6 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: torture)
            p.arguments = [mode, dir.path, "40"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Kill after a random number of committed lines (the process keeps working meanwhile, so the kill lands
            // anywhere: staging, manifest rename, checkpoint, merge).
            let target = Int.random(in: 3...40, using: &rng)
            var seen = 0, buffer = Data()
            let handle = out.fileHandleForReading
            while seen < target {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    if line.hasPrefix("committed "), let l = UInt64(line.dropFirst(10)) { printed.append(l); seen += 1 }
                }
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal, "round \(round): torture exited on its own")
            XCTAssertGreaterThanOrEqual(seen, target, "round \(round)")

            let result = try Subprocess.run(torture, ["verify", dir.path, "40"])
            XCTAssertEqual(result.status, 0, "round \(round): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stdout.hasPrefix("ok "), result.stdout)
            var o = StoreOptions(); o.readOnly = true
            let store = try Store.open(at: dir, options: o)
            let maxPrinted = printed.max() ?? 0
            XCTAssertGreaterThanOrEqual(store.checkpointLSN, maxPrinted, "round \(round): a printed commit was lost")
            XCTAssertGreaterThanOrEqual(try store.committedLSN("public.torture"), maxPrinted)
        }
        // Printed LSNs never go backwards across restarts (each run resumes after the checkpoint).
        XCTAssertEqual(printed, printed.sorted())
        XCTAssertEqual(Set(printed).count, printed.count)
        XCTAssertGreaterThan(printed.count, 20)
    }
}

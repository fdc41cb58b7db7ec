import Foundation
import Parquet
import TestSupport
import XCTest
@testable import ColumnStore

/// A full disk is reported with the errno's own text ("No space left on device"), never "Success".
final class DiskFullTests: XCTestCase {
    func testErrnoTextOfParquetAndStoreErrors() {
        let parquet = ParquetError.io(path: "/s/.p.tmp", operation: "write", errno: ENOSPC)
        XCTAssertTrue(parquet.description.contains("No space left on device"), parquet.description)
        let store = StoreError.part(parquet, path: "/s/p.parquet", operation: "write part")
        XCTAssertEqual(store, .io(path: "/s/p.parquet", operation: "write part (write)", errno: ENOSPC))
        XCTAssertTrue(store.description.contains("No space left on device"), store.description)
        // An error without an errno keeps its own text and says nothing of "Success".
        let other = StoreError.part(ParquetError.invalidArgument("rows differ"), path: "/s/p.parquet", operation: "write part")
        XCTAssertFalse(other.description.contains("Success"), other.description)
        XCTAssertTrue(other.description.contains("rows differ"), other.description)
    }

    /// A store on a 256 KiB tmpfs: committing until the disk is full fails with ENOSPC's text.
    func testFullDiskSaysNoSpaceLeftOnDevice() throws {
        guard getuid() == 0 else { try TestEnvironment.unavailable("mounting a tmpfs needs root") }
        let mountPoint = try makeTempDirectory(self)
        let mount = try Subprocess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint.path])
        guard mount.status == 0 else { return XCTFail("mount failed: \(mount.stderr)") }
        defer { _ = try? Subprocess.run("/bin/umount", ["-l", mountPoint.path]) }
        let store = try Store.open(at: mountPoint.appendingPathComponent("store"), identity: testIdentity)
        try store.defineTable("public.full", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        var failure: Error?
        for round in 0..<100 where failure == nil {
            var b = RowBatch(columns: ModelSchema.base)
            for i in 0..<200 {
                let id = Int64(round * 200 + i)
                // Random text does not compress: each round is about 200 KiB.
                let big = (0..<16).map { _ in UUID().uuidString }.joined()
                ModelSchema.append(&b, id: id, ModelRow(name: "n", big: big, region: "eu"), version: UInt64(round + 1))
            }
            do {
                var c = StoreCommit(upTo: UInt64(round + 1))
                c.add(try store.stage(b, table: "public.full"))
                try store.commit(c)
            } catch {
                failure = error
            }
        }
        let text = "\(failure.map { "\($0)" } ?? "no error")"
        XCTAssertTrue(text.contains("No space left on device"), text)
        XCTAssertFalse(text.contains("Success"), text)
    }
}

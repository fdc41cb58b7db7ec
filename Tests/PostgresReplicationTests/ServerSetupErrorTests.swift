import Foundation
import PostgresReplication
import TestSupport
import XCTest

final class ServerSetupErrorTests: XCTestCase {
    func testWalLevelReplicaGivesAClearError() throws {
        let sandbox = try ExtraSandbox(walLevel: "replica")
        defer { sandbox.destroy() }
        let repl = try ReplicationConnection(sandbox.url)
        XCTAssertThrowsError(try repl.createSlot("freshet_test", snapshot: .nothing)) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "55000", "\(error)")   // object_not_in_prerequisite_state
            XCTAssertTrue("\(error)".contains("wal_level"), "\(error)")
        }
    }
}

import Foundation

/// `store.json`: which source the store copies, and the store-level checkpoint.
public struct StoreIdentity: Sendable, Hashable, Codable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    /// The source's system identifier (`IDENTIFY_SYSTEM`), as text.
    public var systemIdentifier: String
    public var slot: String
    public var publication: String
    /// Every change at or below this LSN is in committed manifests: the LSN confirmed to Postgres and where
    /// streaming resumes.
    public var checkpointLSN: UInt64

    public init(systemIdentifier: String, slot: String, publication: String, checkpointLSN: UInt64 = 0) {
        self.formatVersion = StoreIdentity.currentFormatVersion
        self.systemIdentifier = systemIdentifier
        self.slot = slot
        self.publication = publication
        self.checkpointLSN = checkpointLSN
    }

    func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try e.encode(self))
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> StoreIdentity {
        do {
            let s = try JSONDecoder().decode(StoreIdentity.self, from: Data(bytes))
            guard s.formatVersion == currentFormatVersion else {
                throw StoreError.corruptStoreFile(path: path, reason: "unsupported format version \(s.formatVersion)")
            }
            return s
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.corruptStoreFile(path: path, reason: "\(error)")
        }
    }
}

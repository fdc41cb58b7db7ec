import Foundation

extension Store {
    /// Durably replaces a small file that a higher layer keeps next to `store.json` (e.g. the replicator's
    /// `resync.json`): temp file, fsync, rename, fsync of the directory.
    public func writeSidecar(_ name: String, _ data: Data) throws {
        try writable()
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name != "store.json", name != "tables" else {
            throw StoreError.invalidCommit(reason: "bad sidecar file name \(name)")
        }
        try StoreFile.replace(url.appendingPathComponent(name), with: [UInt8](data))
    }

    /// The contents of a sidecar file, or nil when it does not exist.
    public func readSidecar(_ name: String) -> Data? {
        FileManager.default.contents(atPath: url.appendingPathComponent(name).path)
    }
}

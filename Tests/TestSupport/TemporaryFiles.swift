import Foundation

/// Removes `path` (a store directory or a file) and every file beside it whose name starts with its name: the logs
/// and scripts tests keep next to a store (`STORE.log`, `STORE.resync.log`, `STORE-watch.log`, `STORE.view.sql`).
public func removeTemporaryFiles(_ path: String) {
    let fm = FileManager.default
    let url = URL(fileURLWithPath: path)
    let name = url.lastPathComponent
    guard !name.isEmpty else { return }
    try? fm.removeItem(at: url)
    let directory = url.deletingLastPathComponent()
    for entry in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where entry.hasPrefix(name) {
        try? fm.removeItem(at: directory.appendingPathComponent(entry))
    }
}

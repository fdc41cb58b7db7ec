import Foundation

/// A store commit whose first round of fsyncs is done (`Store.prepareCommit`): its parts are durable and its new
/// manifests and checkpoint wait as temp files. Nothing of it is visible until `Store.finishCommit` renames them into
/// place; `Store.abandon` removes the temp files instead.
public final class PreparedCommit: @unchecked Sendable {
    /// The checkpoint LSN the commit makes durable.
    public let upTo: UInt64
    /// True when the commit changes at least one table (false: a checkpoint-only commit).
    public let hasTables: Bool
    let next: [Manifest]
    let truncated: [(table: String, parts: [PartEntry])]
    let urls: [URL]
    let temps: [URL]
    let checkpoint: (identity: StoreIdentity, temp: URL)?
    /// The store identity (checkpoint) once this commit is finished: the base of the next prepared commit.
    let identityAfter: StoreIdentity

    init(upTo: UInt64, hasTables: Bool, next: [Manifest], truncated: [(table: String, parts: [PartEntry])], urls: [URL],
         temps: [URL], checkpoint: (identity: StoreIdentity, temp: URL)?, identityAfter: StoreIdentity) {
        self.upTo = upTo
        self.hasTables = hasTables
        self.next = next
        self.truncated = truncated
        self.urls = urls
        self.temps = temps
        self.checkpoint = checkpoint
        self.identityAfter = identityAfter
    }
}

import Foundation

/// Everything the store reports. Each case names the table and/or path it concerns.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operating-system call failed; errno 0 means `operation` already says why.
    case io(path: String, operation: String, errno: Int32)
    case corruptManifest(table: String, path: String, reason: String)
    case corruptPart(table: String, path: String, reason: String)
    case corruptStoreFile(path: String, reason: String)
    case identityMismatch(path: String, reason: String)
    case unknownTable(String)
    case invalidSchema(table: String, reason: String)
    case invalidBatch(table: String, reason: String)
    case invalidCommit(reason: String)
    case invalidPredicate(String)
    case mergeFailed(table: String, reason: String)
    case unknownColumn(table: String, column: String)
    case readOnly(path: String)
    case locked(path: String)

    /// True when an operating-system call found the file system full (`ENOSPC`) or the quota used up (`EDQUOT`):
    /// the write may succeed once space is freed.
    public var isDiskFull: Bool {
        if case let .io(_, _, code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }

    public var description: String {
        switch self {
        case let .io(path, op, e): return e == 0 ? "\(op) \(path)" : "\(op) \(path): \(String(cString: strerror(e)))"
        case let .corruptManifest(t, p, r): return "table \(t): corrupt manifest \(p): \(r)"
        case let .corruptPart(t, p, r): return "table \(t): corrupt part \(p): \(r)"
        case let .corruptStoreFile(p, r): return "corrupt store file \(p): \(r)"
        case let .identityMismatch(p, r): return "store \(p) belongs elsewhere: \(r)"
        case let .unknownTable(t): return "unknown table \(t)"
        case let .invalidSchema(t, r): return "table \(t): invalid schema: \(r)"
        case let .invalidBatch(t, r): return "table \(t): invalid batch: \(r)"
        case let .invalidCommit(r): return "invalid commit: \(r)"
        case let .invalidPredicate(r): return "invalid predicate: \(r)"
        case let .mergeFailed(t, r): return "table \(t): merge failed: \(r)"
        case let .unknownColumn(t, c): return "table \(t): unknown column \(c)"
        case let .readOnly(p): return "store \(p) is open read-only"
        case let .locked(p): return "store \(p) is being written by another process"
        }
    }
}

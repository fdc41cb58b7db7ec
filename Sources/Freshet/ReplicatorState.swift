/// What the replicator is doing now (the `/healthz` and `freshet_state` view).
public enum ReplicatorState: String, CaseIterable, Sendable, Codable {
    case starting, snapshot, streaming, reconnecting, stopping
    /// A store write found the disk full and waits for space (`DiskFullWait`).
    case diskFull = "disk_full"
}

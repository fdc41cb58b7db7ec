/// What the replicator is doing now (the `/healthz` and `freshet_state` view).
public enum ReplicatorState: String, CaseIterable, Sendable, Codable {
    case starting, snapshot, streaming, reconnecting, stopping
}

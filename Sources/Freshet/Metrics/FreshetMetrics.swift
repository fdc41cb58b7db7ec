import Foundation

/// The `/metrics` families, all prefixed `freshet_`, from one snapshot.
public enum FreshetMetrics {
    /// The families in a stable order.
    public static func families(_ s: OperationsSnapshot) -> [MetricFamily] {
        var f: [MetricFamily] = []
        func gauge(_ name: String, _ help: String, _ v: Double) { f.append(.single(name, .gauge, help: help, v)) }
        func counter(_ name: String, _ help: String, _ v: Double) { f.append(.single(name, .counter, help: help, v)) }
        func perTable(_ name: String, _ type: MetricType, _ help: String, _ value: (OperationsSnapshot.Table) -> Double) {
            f.append(MetricFamily(name, type, help: help, samples: s.tables.map {
                MetricSample(labels: [MetricLabel("table", $0.name)], value: value($0))
            }))
        }

        f.append(MetricFamily("freshet_info", .gauge, help: "Constant 1; labels name the slot and publication.", samples: [
            MetricSample(labels: [MetricLabel("slot", s.slotName), MetricLabel("publication", s.publication)], value: 1)]))
        f.append(MetricFamily("freshet_state", .gauge, help: "1 for the replicator's current state.",
                              samples: ReplicatorState.allCases.map {
                                  MetricSample(labels: [MetricLabel("state", $0.rawValue)], value: s.state == $0 ? 1 : 0)
                              }))
        gauge("freshet_streaming", "1 while changes are streamed from the slot.", s.state == .streaming ? 1 : 0)
        gauge("freshet_healthy", "1 when /healthz answers 200.", HealthCheck.evaluate(s).healthy ? 1 : 0)
        gauge("freshet_store_disk_full", "1 while a store write waits for space on a full disk (it is retried; nothing is confirmed meanwhile).",
              s.state == .diskFull ? 1 : 0)

        // Freshness.
        f.append(.histogram("freshet_commit_lag_seconds",
                            help: "Commit-to-visible lag per source transaction: its commit time on the source to the store commit that made it durable and visible.",
                            s.lagHistogram))
        f.append(.histogram("freshet_store_commit_seconds",
                            help: "Duration of store commits that carried rows: writing the batches' parts, fsyncs, manifests and checkpoint.",
                            s.storeCommitHistogram))
        gauge("freshet_commit_lag_last_seconds", "Commit-to-visible lag of the last store commit that carried rows.", s.lastCommitLag)
        gauge("freshet_lag_seconds", "Current end-to-end lag: the newer of the last commit lag and the last heartbeat round trip.",
              s.currentLag ?? 0)
        gauge("freshet_health_max_lag_seconds", "The lag above which /healthz answers 503 (metrics.healthMaxLagSeconds).", s.healthMaxLag)
        gauge("freshet_heartbeat_lag_seconds", "Heartbeat round trip: from its emission on the source to its arrival in the stream.",
              s.heartbeatLag)
        gauge("freshet_heartbeat_age_seconds", "Seconds since the last heartbeat arrived (0 before the first).",
              s.heartbeatArrival.map { max(0, s.now.timeIntervalSince($0)) } ?? 0)
        counter("freshet_heartbeats_total", "Heartbeats received.", Double(s.heartbeats))
        gauge("freshet_last_commit_timestamp_seconds", "Source commit time of the last applied transaction (Unix seconds).",
              s.lastCommit?.timeIntervalSince1970 ?? 0)
        gauge("freshet_wal_behind_bytes", "Server WAL end (from keepalives) minus the confirmed LSN.", Double(s.walBehindBytes))
        gauge("freshet_committed_lsn", "The store's checkpoint LSN, confirmed to the source (as a number).", Double(s.committedLSN))

        // Slot safety.
        gauge("freshet_slot_retained_bytes", "WAL the slot keeps on the source (current WAL LSN minus restart_lsn).",
              Double(s.slot?.retainedBytes ?? 0))
        let status = s.slot?.walStatus ?? "unknown"
        f.append(MetricFamily("freshet_slot_wal_status", .gauge, help: "1 for the slot's wal_status in pg_replication_slots.",
                              samples: Set(["reserved", "extended", "unreserved", "lost", "unknown", status]).sorted().map {
                                  MetricSample(labels: [MetricLabel("status", $0)], value: $0 == status ? 1 : 0)
                              }))
        gauge("freshet_slot_active", "1 when the slot has an active walsender.", s.slot?.active == true ? 1 : 0)
        gauge("freshet_slot_retained_warning", "1 when the retained WAL exceeds the warning threshold.", s.slotWarning ? 1 : 0)
        gauge("freshet_slot_retained_warning_threshold_bytes", "The retained WAL warning threshold (slotWarnBytes).", Double(s.slotWarnBytes))
        gauge("freshet_slot_checked_age_seconds", "Seconds since pg_replication_slots was last read (-1 before the first).",
              s.slotCheckedAt.map { max(0, s.now.timeIntervalSince($0)) } ?? -1)

        // Throughput.
        var rowSamples: [MetricSample] = []
        for t in s.tables {
            for op in ReplicatorStats.Operation.allCases {
                rowSamples.append(MetricSample(labels: [MetricLabel("table", t.name), MetricLabel("operation", op.rawValue)],
                                               value: Double(t.applied[op.rawValue] ?? 0)))
            }
        }
        f.append(MetricFamily("freshet_rows_applied_total", .counter,
                              help: "Rows applied by table and operation (snapshot rows included).", samples: rowSamples))
        counter("freshet_transactions_total", "Source transactions received.", Double(s.transactions))
        counter("freshet_commits_total", "Store commits (batches) that carried rows.", Double(s.commits))
        counter("freshet_store_commits_total", "Store commits, checkpoint-only ones (idle source, heartbeats) included.",
                Double(s.storeCommits))
        counter("freshet_rows_committed_total", "Rows committed to the store by streaming batches.", Double(s.rowsCommitted))
        counter("freshet_spills_total", "Transactions larger than the batch limits staged early.", Double(s.spills))
        f.append(MetricFamily("freshet_streamed_transactions_total", .counter,
                              help: "Streamed in-progress transactions (pgoutput protocol 2) applied at their commit or discarded at their abort.",
                              samples: [MetricSample(labels: [MetricLabel("outcome", "committed")], value: Double(s.streamedCommitted)),
                                        MetricSample(labels: [MetricLabel("outcome", "aborted")], value: Double(s.streamedAborted))]))
        gauge("freshet_stream_open_transactions", "Streamed transactions spooled and not yet committed or aborted.", Double(s.streamOpen))
        gauge("freshet_stream_spool_bytes", "Bytes spooled to STORE/stream-spool for the open streamed transactions.", Double(s.streamSpoolBytes))
        gauge("freshet_settles_held", "1 while settles wait because the stream is catching up on a backlog.", s.settlesHeld ? 1 : 0)
        counter("freshet_unresolved_key_moves_total",
                "Unchanged TOASTed columns of key-changing updates whose old value was found nowhere (left unchanged under the new key).",
                Double(s.unresolvedKeyMoves))
        gauge("freshet_snapshot_in_progress", "1 while the initial snapshot is copied.", s.state == .snapshot ? 1 : 0)
        f.append(MetricFamily("freshet_snapshot_rows_expected", .gauge,
                              help: "Planner row estimate of each table when its snapshot began (progress: rows_applied_total{operation=\"snapshot\"} over this).",
                              samples: s.tables.compactMap { t in
                                  t.snapshotExpectedRows.map { MetricSample(labels: [MetricLabel("table", t.name)], value: Double($0)) }
                              }))

        // Store.
        perTable("freshet_table_parts", .gauge, "Committed parts per table.") { Double($0.parts) }
        perTable("freshet_table_stored_rows", .gauge, "Row versions (tombstones included) in the committed parts.") { Double($0.storedRows) }
        perTable("freshet_table_bytes", .gauge, "Bytes of the committed parts.") { Double($0.bytes) }
        perTable("freshet_bytes_committed_total", .counter, "Part bytes committed since start (snapshot and streaming batches; merges not counted).") {
            Double($0.bytesCommitted)
        }
        perTable("freshet_table_pending_merges", .gauge, "Merges the background merger wants now (size-tiered merges and settles).") { Double($0.pendingMerges) }
        perTable("freshet_table_last_commit_timestamp_seconds", .gauge,
                 "Source commit time of the last applied transaction that changed the table (0 when none since start).") {
            $0.lastCommit?.timeIntervalSince1970 ?? 0
        }

        // Trouble.
        counter("freshet_reconnects_total", "Replication connections lost and retried.", Double(s.reconnects))
        var errors = s.errors
        for kind in ["stream", "slot_query", "merge", "catalog", "disk_full"] where errors[kind] == nil { errors[kind] = 0 }
        f.append(MetricFamily("freshet_errors_total", .counter, help: "Errors by kind (stream: connection lost; slot_query: pg_replication_slots read failed; merge: a background merge failed, counted once per table and distinct error; catalog: a catalog check failed; disk_full: the store's disk was found full, once per episode).",
                              samples: errors.sorted { $0.key < $1.key }.map {
                                  MetricSample(labels: [MetricLabel("kind", $0.key)], value: Double($0.value))
                              }))
        var changes = s.sourceChanges
        for kind in SourceChangeKind.allCases where changes[kind.rawValue] == nil { changes[kind.rawValue] = 0 }
        f.append(MetricFamily("freshet_source_changes_total", .counter,
                              help: "Changes of the source that changed what the copy holds or need attention, by kind (each is also a warning in the log).",
                              samples: changes.sorted { $0.key < $1.key }.map {
                                  MetricSample(labels: [MetricLabel("kind", $0.key)], value: Double($0.value))
                              }))
        gauge("freshet_unreplicable_tables", "Tables in scope that cannot be replicated (listed with the fix in /status and the log).",
              Double(s.unreplicable.count))
        if let ch = s.clickhouse { f += ClickHouseMetrics.families(ch) }
        return f
    }
}

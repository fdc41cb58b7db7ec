// PostgresReplication module; see DESIGN.md.

// Parquet module; see DESIGN.md.

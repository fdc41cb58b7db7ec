// Freshet module; see DESIGN.md.

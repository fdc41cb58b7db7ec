// ColumnStore module; see DESIGN.md.

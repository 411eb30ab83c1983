"""Everything that writes rows: local edits, undo and redo (`edits`), the sync engine's pulled rows
and push outcomes (`sync`), laying pending edits over server rows (`overlay`) and the checks an
edit passes first (`validation`). Each runs inside the caller's write transaction (`Cache`).
"""

"""Incremental analysis the engine runs on every batch, and the views panes render."""

"""Revisions from the recorded history: the difference between two catalogs as
operations, rename detection, the recorded schema and history, breaking changes."""

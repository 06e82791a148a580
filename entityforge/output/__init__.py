"""Writing a generation: formatting, merging hand edits, atomic writes, the render cache."""

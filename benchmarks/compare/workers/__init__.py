"""Worker entry points the adapters start as subprocesses (one per system)."""

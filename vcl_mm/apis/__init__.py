"""High-level APIs: video reading and streaming inference (demos, tools)."""

"""API shapes: what clients send and read. Field names here are the public contract."""

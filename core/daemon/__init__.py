"""The daemon: one per state directory, serving API v1 on a Unix socket and running the engine."""

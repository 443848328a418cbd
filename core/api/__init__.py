"""API v1: the daemon's FastAPI app, served on its Unix socket."""

"""The engine: priority queue, limits, workers, retries, crash recovery and events."""

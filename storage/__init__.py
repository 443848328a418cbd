"""callboard storage: the SQLite store."""

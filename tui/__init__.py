"""callboard TUI: the Textual app (talks to the daemon only through callboard.core.client)."""

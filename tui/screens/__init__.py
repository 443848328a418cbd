"""The screens of the callboard TUI, one per module."""

"""Reusable widgets of the callboard TUI."""

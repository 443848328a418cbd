"""``python -m callboard.tui``: the TUI on the default settings."""

from callboard.core.config import load_settings
from callboard.tui.launch import run_tui

run_tui(load_settings(), [])

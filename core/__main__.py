"""``python -m callboard.core`` runs the CLI (used by tests and when the script is not on PATH)."""

from callboard.core.cli.main import main

main()

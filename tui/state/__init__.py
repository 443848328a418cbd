"""What the screens show, kept apart from the widgets that draw it (plain Python, no Textual)."""

"""The kinds of test there are (each one a model in core/models/definitions.py): here on their own so a
client can name them without building the test models."""

KINDS = ("http", "conversation", "call", "command", "voice")

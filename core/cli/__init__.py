"""The ``callboard`` command line."""

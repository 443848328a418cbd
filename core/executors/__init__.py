"""Executors: one per test kind, behind the interface in ``callboard.core.execution.base``."""

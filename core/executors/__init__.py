"""Executors: one per test kind, behind the interface in base.py."""

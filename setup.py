"""Maps the top-level folders core/, storage/ and tui/ to callboard.core, .storage and .tui, and the
example suites in examples/ to callboard.examples (data only)."""

from setuptools import find_namespace_packages, setup

FOLDERS = ("core", "storage", "tui")

setup(
    # Namespace discovery so data-only folders (storage/migrations) ship too.
    packages=[
        f"callboard.{name}"
        for name in find_namespace_packages(
            include=[f"{folder}*" for folder in FOLDERS], exclude=["*__pycache__*"]
        )
    ]
    + ["callboard.examples"],
)

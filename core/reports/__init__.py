"""Exports of a batch's runs: JUnit XML for CI, CSV and JSON, and a summary for the terminal.

Import from the modules (``reports.junit_xml``, ``reports.tabular``): re-exporting the function
``junit_xml`` here would hide the module of the same name.
"""

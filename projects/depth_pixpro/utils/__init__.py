"""Helpers of the command-line scripts (``tools/``, ``benchmarks/``)."""

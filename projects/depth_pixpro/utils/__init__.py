"""Helpers without a domain: what the command-line scripts share
(``scripts.py``) and atomic file writing (``atomic.py``)."""

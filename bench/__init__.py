"""Benchmarks for ``make bench`` (``python -m bench [NAME] [options]``).

Each benchmark creates its own database on the server named by ``DATABASE_URL``, prints
a table and writes ``bench/results/<name>.json``. See ``bench/ingest.py``.
"""

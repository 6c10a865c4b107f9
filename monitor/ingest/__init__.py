"""Ingest: which feeds are due, fetching them safely, parsing, full text, feed health.

In: the feed registry in the store and the clock. Out: :class:`monitor.models.Article` batches
per feed (handed to ``detect``) and each poll's outcome (recorded on the feed row).
"""

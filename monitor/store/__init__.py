"""The store: the pipeline's only shared state (SQLModel; SQLite by default, PostgreSQL by URL)."""

from monitor.store.db import Store

__all__ = ["Store"]

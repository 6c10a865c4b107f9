"""Sanctions monitor: news feeds in, one trustworthy alert per story out."""

__version__ = "0.1.0"

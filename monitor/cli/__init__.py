"""The ``monitor`` command: one module per command group, all wired in ``app``."""

from monitor.cli.app import cli, main

__all__ = ["cli", "main"]

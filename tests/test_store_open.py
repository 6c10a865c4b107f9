"""Opening a store the user named wrongly: a StoreError saying so, shown as one line, exit 1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.errors import StoreError
from monitor.store import Store

# Text SQLAlchemy cannot read as a URL, and one whose port is not a number (which it reads
# only when asked for the port: this used to escape as a ValueError with a traceback).
NOT_A_URL = "not a url"
BAD_PORT = "postgresql+psycopg://monitor@db.internal:5432x/monitor"


@pytest.mark.parametrize("url", [NOT_A_URL, BAD_PORT])
@pytest.mark.parametrize("create", [True, False])
def test_a_url_that_names_no_store_is_a_store_error(url: str, create: bool) -> None:
    with pytest.raises(StoreError, match="^database_url is not a usable store URL: "):
        Store(url, create=create)


@pytest.mark.parametrize("command", [["status"], ["db", "current"], ["alerts", "list"]])
def test_the_cli_says_so_in_one_line(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--db", BAD_PORT])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: database_url is not a usable store URL: invalid literal for int() with base 10: "
        "'5432x'"
    ], result.stderr


def test_a_sqlite_store_writes_ahead_and_checkpoints_in_large_steps(tmp_path):
    """Every connection to a SQLite store is in WAL mode, syncs at commit only as far as WAL
    needs (NORMAL), and checkpoints every 10,000 pages, which a cold poll's writer needs (see
    monitor/store/db.py)."""
    from sqlalchemy import text

    from monitor.store.db import WAL_CHECKPOINT_PAGES

    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with store.engine.connect() as connection:
            pragmas = {
                name: connection.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "wal_autocheckpoint")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "wal_autocheckpoint": WAL_CHECKPOINT_PAGES,
        }
        assert WAL_CHECKPOINT_PAGES == 10_000
    finally:
        store.close()

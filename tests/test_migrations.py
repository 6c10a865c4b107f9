"""Schema migrations on real SQLite files and a real PostgreSQL (no mocks).

The check that matters most is ``schema_diff``: a database migrated to head must equal what the
models in monitor/store/tables.py describe, so a model change without a migration fails here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import monitor
from monitor.cli import cli
from monitor.store import Store, legacy, migrate, schema
from monitor.store.db import open_engine
from tests.conftest import ROOT

# What SQLModel's create_all made on SQLite at commit f33182e, the last schema before the lease
# columns and replicas: captured once from a scratch file (sqlite_master, in creation order).
LEGACY_DDL = """
CREATE TABLE feeds (
	id INTEGER NOT NULL,
	name VARCHAR NOT NULL,
	url VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	etag VARCHAR NOT NULL,
	last_modified VARCHAR NOT NULL,
	body_hash VARCHAR NOT NULL,
	last_polled DATETIME,
	next_poll DATETIME,
	last_success DATETIME,
	last_error VARCHAR NOT NULL,
	consecutive_failures INTEGER NOT NULL,
	items_seen INTEGER NOT NULL,
	origin VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	full_text BOOLEAN NOT NULL,
	added DATETIME,
	first_polled DATETIME,
	interval INTEGER,
	overflows INTEGER NOT NULL,
	last_new DATETIME,
	rhythm FLOAT NOT NULL,
	health_alert VARCHAR NOT NULL,
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_feeds_name ON feeds (name);
CREATE TABLE articles (
	id INTEGER NOT NULL,
	external_id VARCHAR NOT NULL,
	feed VARCHAR NOT NULL,
	url VARCHAR NOT NULL,
	canonical_url VARCHAR NOT NULL,
	content_hash VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	text TEXT,
	published DATETIME,
	fetched DATETIME NOT NULL,
	dated DATETIME NOT NULL,
	story_id VARCHAR,
	PRIMARY KEY (id)
);
CREATE INDEX ix_articles_external_id ON articles (external_id);
CREATE INDEX ix_articles_dated ON articles (dated);
CREATE INDEX ix_articles_content_hash ON articles (content_hash);
CREATE INDEX ix_articles_canonical_url ON articles (canonical_url);
CREATE INDEX ix_articles_feed_external_id ON articles (feed, external_id);
CREATE INDEX ix_articles_story_id ON articles (story_id);
CREATE TABLE stories (
	id VARCHAR NOT NULL,
	headline VARCHAR NOT NULL,
	first_published DATETIME NOT NULL,
	last_published DATETIME NOT NULL,
	created DATETIME NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_stories_first_published ON stories (first_published);
CREATE INDEX ix_stories_last_published ON stories (last_published);
CREATE TABLE alerts (
	id VARCHAR NOT NULL,
	rule_id VARCHAR NOT NULL,
	story_id VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	severity VARCHAR NOT NULL,
	tags JSON,
	labels JSON,
	rule_version VARCHAR NOT NULL,
	revision INTEGER NOT NULL,
	created DATETIME NOT NULL,
	updated DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (rule_id, story_id)
);
CREATE INDEX ix_alerts_rule_id ON alerts (rule_id);
CREATE INDEX ix_alerts_story_id ON alerts (story_id);
CREATE TABLE citations (
	id INTEGER NOT NULL,
	alert_id VARCHAR NOT NULL,
	article_id INTEGER NOT NULL,
	rule_version VARCHAR NOT NULL,
	sentences JSON,
	created DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (alert_id, article_id)
);
CREATE INDEX ix_citations_alert_id ON citations (alert_id);
CREATE INDEX ix_citations_article_id ON citations (article_id);
CREATE TABLE notifications (
	id INTEGER NOT NULL,
	"key" VARCHAR NOT NULL,
	story_id VARCHAR NOT NULL,
	channel VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	alerts JSON,
	state VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	next_attempt DATETIME NOT NULL,
	deadline DATETIME,
	last_error VARCHAR NOT NULL,
	created DATETIME NOT NULL,
	sent DATETIME,
	PRIMARY KEY (id),
	UNIQUE ("key")
);
CREATE INDEX ix_notifications_story_id ON notifications (story_id);
CREATE INDEX ix_notifications_next_attempt ON notifications (next_attempt);
CREATE INDEX ix_notifications_state ON notifications (state);
CREATE INDEX ix_notifications_channel ON notifications (channel);
CREATE TABLE silences (
	id INTEGER NOT NULL,
	rule VARCHAR NOT NULL,
	story VARCHAR NOT NULL,
	"match" VARCHAR NOT NULL,
	reason VARCHAR NOT NULL,
	created DATETIME NOT NULL,
	ends DATETIME NOT NULL,
	expired BOOLEAN NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_silences_ends ON silences (ends);
"""

# The Slack channel's table (monitor/store/slack_threads.py), made on first use at f33182e.
SLACK_DDL = """
CREATE TABLE slack_threads (
	channel VARCHAR NOT NULL,
	story VARCHAR NOT NULL,
	ts VARCHAR NOT NULL,
	PRIMARY KEY (channel, story)
);
"""

# What commit 0f6c4a1 (the last create_all version) did to such a file when the daemon started:
# ensure_columns added the feeds lease columns, create_all the replicas table; notifications,
# an existing table, stayed as they were.
LEGACY_0F6C4A1_DDL = """
ALTER TABLE feeds ADD COLUMN "lease_owner" VARCHAR DEFAULT '' NOT NULL;
ALTER TABLE feeds ADD COLUMN "lease_until" DATETIME;
CREATE TABLE replicas (
	id VARCHAR NOT NULL,
	host VARCHAR NOT NULL,
	pid INTEGER NOT NULL,
	version VARCHAR NOT NULL,
	started DATETIME NOT NULL,
	heartbeat DATETIME NOT NULL,
	stopped DATETIME,
	clean BOOLEAN NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_replicas_started ON replicas (started);
"""

FEED_ROW = (
    "INSERT INTO feeds (name, url, title, etag, last_modified, body_hash, last_error,"
    " consecutive_failures, items_seen, origin, source, full_text, overflows, rhythm,"
    " health_alert) VALUES ('ofac', 'https://example.org/ofac.xml', 'OFAC', '', '', '', '',"
    " 0, 7, 'added', 'OFAC', TRUE, 0, 0.0, '')"
)
NOTIFICATION_ROW = (
    "INSERT INTO notifications (key, story_id, channel, kind, alerts, state, attempts,"
    " next_attempt, last_error, created) VALUES ('k1', 's1', 'console', 'new', '{}', 'sent',"
    " 1, '2026-01-01 00:00:00', '', '2026-01-01 00:00:00')"
)


# Every revision, oldest first: what an upgrade from nothing (or an adoption) applies.
REVISIONS = [script.revision for script in reversed(list(schema.scripts().walk_revisions()))]
HEAD = REVISIONS[-1]


def sqlite_file(path: Path, script: str) -> str:
    """A SQLite file made with raw SQL, as an older version left it; its store URL."""
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
    conn.close()
    return f"sqlite:///{path}"


def every_model() -> MetaData:
    """SQLModel's metadata once every monitor module is imported: all the tables the code has,
    wherever they are defined, not only those of the modules schema.MODEL_MODULES lists."""
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if info.name != "monitor.__main__":  # it runs the command line
            importlib.import_module(info.name)
    return SQLModel.metadata


def schema_diff(engine: Engine) -> list[str]:
    """What autogenerate would write to bring the database to the models: [] when they agree.

    A model change without a migration shows here as, e.g., "add_column feeds.lease_owner".
    """
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return [_readable(change) for change in compare_metadata(context, every_model())]


def _readable(change: Any) -> str:
    if isinstance(change, list):  # modify_* changes come as a list of tuples
        return "; ".join(_readable(part) for part in change)
    kind, *args = change
    if kind.startswith("modify_"):
        return f"{kind} {args[1]}.{args[2]}: {args[-2]!r} -> {args[-1]!r}"
    names = [str(getattr(a, "name", a)) for a in args if a is not None]
    return " ".join([kind, ".".join(n for n in names if not n.startswith(("{", "(")))])


def sqlite_ddl(path: Path) -> list[str]:
    """The file's CREATE statements, whitespace-normalised, without Alembic's own table."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'alembic_version'"
        ).fetchall()
    conn.close()
    return sorted(" ".join(sql.split()) for (sql,) in rows)


def version_rows(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def monitor_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


def subprocess_env() -> dict[str, str]:
    """The test's environment, with the checkout importable wherever the command runs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_head_is_alembics_and_history_starts_at_the_baseline() -> None:
    # head() asks Alembic's ScriptDirectory; adoption relies on the first two revisions.
    assert schema.head() == schema.scripts().get_current_head() == HEAD
    assert REVISIONS[:2] == [legacy.BASELINE, legacy.LEGACY] == ["0001", "0002"]


def test_every_table_is_defined_in_a_listed_module() -> None:
    # env.py (autogenerate) and adoption see the tables of schema.MODEL_MODULES only.
    every_model()
    found: set[str] = set()
    classes = list(SQLModel.__subclasses__())
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if hasattr(cls, "__table__") and cls.__module__.startswith("monitor."):
            found.add(cls.__module__)
    assert found == set(schema.MODEL_MODULES)


def test_fresh_sqlite_reaches_head_and_matches_models(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert schema.current(engine) is None
    assert migrate.upgrade(engine) == REVISIONS
    assert schema.current(engine) == schema.head()
    assert schema_diff(engine) == []
    assert migrate.upgrade(engine) == []
    assert version_rows(engine) == [schema.head()]
    engine.dispose()


def test_fresh_postgres_reaches_head_and_matches_models(pg_url: str) -> None:
    engine = open_engine(pg_url)
    assert schema.current(engine) is None
    assert migrate.upgrade(engine) == REVISIONS
    assert schema.current(engine) == schema.head()
    assert schema_diff(engine) == []
    assert migrate.upgrade(engine) == []
    engine.dispose()


def test_baseline_is_what_create_all_made(tmp_path: Path) -> None:
    # 0001 must be the old schema to the letter, or adopting an old file would leave it unlike
    # a migrated one in ways compare_metadata does not see (index names, column order).
    engine = open_engine(f"sqlite:///{tmp_path / 'baseline.db'}")
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), legacy.BASELINE)
    engine.dispose()
    sqlite_file(tmp_path / "legacy.db", LEGACY_DDL + SLACK_DDL)
    assert sqlite_ddl(tmp_path / "baseline.db") == sqlite_ddl(tmp_path / "legacy.db")


def test_legacy_sqlite_is_adopted_with_its_rows(tmp_path: Path) -> None:
    url = sqlite_file(tmp_path / "legacy.db", LEGACY_DDL + FEED_ROW + ";" + NOTIFICATION_ROW)
    engine = open_engine(url)
    assert schema.current(engine) is None
    assert migrate.upgrade(engine) == REVISIONS
    assert schema.current(engine) == schema.head()
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        feed = conn.execute(text("SELECT name, items_seen, lease_owner, lease_until FROM feeds"))
        assert feed.all() == [("ofac", 7, "", None)]
        outbox = conn.execute(text("SELECT key, state, lease_owner FROM notifications"))
        assert outbox.all() == [("k1", "sent", "")]
    engine.dispose()


def test_legacy_sqlite_from_before_feed_management_gets_the_missing_columns(
    tmp_path: Path,
) -> None:
    # What ensure_columns was for: feeds lacking the columns added with `monitor feeds add`.
    old_feeds = LEGACY_DDL.split("CREATE UNIQUE INDEX ix_feeds_name")[0]
    cut = old_feeds.index("\torigin VARCHAR")
    ddl = old_feeds[:cut] + "\tPRIMARY KEY (id)\n);\n"
    ddl += "CREATE UNIQUE INDEX ix_feeds_name ON feeds (name);"
    row = "INSERT INTO feeds (name, url, title, etag, last_modified, body_hash, last_error,"
    row += " consecutive_failures, items_seen) VALUES ('ofac', 'u', '', '', '', '', '', 0, 3)"
    engine = open_engine(sqlite_file(tmp_path / "older.db", ddl + row))
    assert migrate.upgrade(engine) == REVISIONS
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT items_seen, origin, full_text, overflows, rhythm, health_alert FROM feeds")
        )
        assert got.all() == [(3, "config", 1, 0, 0.0, "")]
    engine.dispose()


def test_legacy_sqlite_from_the_last_create_all_version_is_adopted(tmp_path: Path) -> None:
    # Part of 0002 is there already: adoption must not add it twice.
    script = LEGACY_DDL + FEED_ROW + ";" + LEGACY_0F6C4A1_DDL
    engine = open_engine(sqlite_file(tmp_path / "0f6c4a1.db", script))
    assert migrate.upgrade(engine) == REVISIONS
    assert schema_diff(engine) == []
    assert version_rows(engine) == [schema.head()]
    engine.dispose()


def test_legacy_postgres_is_adopted_with_its_rows(pg_url: str) -> None:
    # On PostgreSQL the baseline revision is what create_all made (checked column by column
    # when 0001 was written), so 0001 without its version table stands for a legacy database.
    engine = open_engine(pg_url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), legacy.BASELINE)
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text(FEED_ROW))
    assert schema.current(engine) is None
    assert migrate.upgrade(engine) == REVISIONS
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, lease_owner FROM feeds")).all() == [("ofac", "")]
    engine.dispose()


def test_upgrade_from_baseline_applies_only_the_rest(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'at0001.db'}")
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), legacy.BASELINE)
        conn.execute(text(FEED_ROW))
    assert schema.current(engine) == "0001"
    assert migrate.upgrade(engine) == REVISIONS[1:]
    assert schema_diff(engine) == []
    engine.dispose()


def test_downgrades_run_and_upgrade_again(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'down.db'}")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(FEED_ROW))
        command.downgrade(schema.alembic_config(conn), legacy.BASELINE)
    assert schema.current(engine) == "0001"
    with engine.begin() as conn:
        assert conn.execute(text("SELECT name FROM feeds")).scalars().all() == ["ofac"]
        command.downgrade(schema.alembic_config(conn), "base")
    assert schema.current(engine) is None
    assert migrate.upgrade(engine) == REVISIONS
    assert schema_diff(engine) == []
    engine.dispose()


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).close()
    engine = open_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(schema.MigrationError, match="9999.*does not know"):
        Store(url)
    result = CliRunner().invoke(cli, ["db", "upgrade", "--db", url])
    assert result.exit_code == 1
    assert "9999" in result.output


def test_cli_upgrade_and_current(db_url: str) -> None:
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current", "--db", db_url])
    assert before.exit_code == 0, before.output
    assert before.stdout.startswith(f"none (head is {HEAD}; `monitor db upgrade` creates or")

    upgraded = runner.invoke(cli, ["db", "upgrade", "--db", db_url])
    assert upgraded.exit_code == 0, upgraded.output
    lines = upgraded.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"applied {r}" for r in REVISIONS]
    assert lines[1] == "applied 0002: Leases and replicas: several daemons may share one store."

    again = runner.invoke(cli, ["db", "upgrade", "--db", db_url])
    assert again.stdout == f"already at {HEAD}\n"
    assert runner.invoke(cli, ["db", "current", "--db", db_url]).stdout == f"{HEAD} (head)\n"


def test_cli_current_of_a_store_behind_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    engine = open_engine(url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), legacy.BASELINE)
    engine.dispose()
    result = CliRunner().invoke(cli, ["db", "current", "--db", url])
    assert result.stdout == f"0001 (head is {HEAD}; `monitor db upgrade` applies the rest)\n"


def run_two_upgrades(url: str, cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """``monitor db upgrade`` in two processes started together, as two replicas would."""
    procs = [
        subprocess.Popen(
            monitor_command("db", "upgrade", "--db", url),
            cwd=cwd,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def assert_migrated_once(done: list[subprocess.CompletedProcess[str]]) -> None:
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    outputs = sorted(d.stdout for d in done)
    assert outputs[0] == f"already at {HEAD}\n", outputs
    assert outputs[1].startswith("applied 0001: "), outputs


def test_two_processes_upgrade_postgres_at_once(pg_url: str, tmp_path: Path) -> None:
    assert_migrated_once(run_two_upgrades(pg_url, tmp_path))
    engine = open_engine(pg_url)
    assert version_rows(engine) == [schema.head()]
    assert schema_diff(engine) == []
    engine.dispose()


def test_two_processes_upgrade_sqlite_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert_migrated_once(run_two_upgrades(url, tmp_path))
    engine = open_engine(url)
    assert version_rows(engine) == [schema.head()]
    engine.dispose()

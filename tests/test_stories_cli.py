"""`monitor stories show | explain`: what the event matcher saw, as an analyst checks it."""

from __future__ import annotations

import json

from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import SEED_FILES


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_show_lists_why_each_report_joined_and_explain_compares_two(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert run("replay", "--db", db, *map(str, SEED_FILES)).exit_code == 0
    listed = run("alerts", "list", "--db", db, "--json")
    (story,) = {json.loads(line)["story"] for line in listed.stdout.splitlines()}

    shown = run("stories", "show", story, "--db", db, "--json")
    assert shown.exit_code == 0, shown.output
    members = json.loads(shown.stdout)["members"]
    assert [m["similarity"] is None for m in members] == [True, False]  # one started it
    joined = members[1]
    assert joined["similarity"] > 0.3 and "journal" in joined["shared_terms"]
    text = run("stories", "show", story, "--db", db).stdout
    assert "started the story" in text and "joined at similarity" in text

    first, second = (str(m["article"]) for m in members)
    explained = json.loads(run("stories", "explain", first, second, "--db", db, "--json").stdout)
    assert explained["same_story"] and explained["similarity"] == round(joined["similarity"], 4)
    assert explained["shared_terms"][:3] == joined["shared_terms"][:3]


def test_unknown_story_or_article_is_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert run("replay", "--db", db, str(SEED_FILES[0])).exit_code == 0
    missing = run("stories", "show", "st-nope", "--db", db)
    assert missing.exit_code == 1
    assert missing.output.strip().startswith("Error: no story 'st-nope' in the store")
    absent = run("stories", "explain", "1", "99", "--db", db)
    assert absent.exit_code == 1 and absent.output.strip().startswith("Error: no article 99")

"""`monitor stories merge | split`: an analyst regroups reports, alerts follow their story.

Real stores (a SQLite file, and PostgreSQL where MONITOR_TEST_POSTGRES_URL is set), the real
command line, and a console channel writing to a buffer: after a merge the channels get one
follow-up with the sources that came from the merged story, never a new alert; after a split
the new story's first notice goes out. A running pipeline (its own story index) and a second
one over the same store both see the edit: a later report of the merged event joins the story
it was merged into, and a split story's centroid is the one rebuilt from the members left.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlmodel import select

from monitor.alerting.alerts import alert_id_for
from monitor.cli import cli
from monitor.config import RouteConfig, Settings
from monitor.delivery.channels.console import ConsoleNotifier
from monitor.detect.events.vectors import add_to_centroid
from monitor.models import Article
from monitor.service.cycle import Service
from monitor.store import Store
from monitor.store.slack_threads import SlackThread
from monitor.store.story_edits import StoryEditRow
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    ArticleVectorRow,
    CitationRow,
    NotificationRow,
    StoryRow,
    StoryVectorRow,
)
from tests.conftest import ROOT, RULES

OIL, LABOR = "dprk-oil-transfer", "dprk-overseas-labor"


# Reports of this week: the matcher keeps a story open for news arriving within its window.
WEEK = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=7)


def report(key: str, source: str, title: str, text: str, day: int) -> Article:
    url = f"https://news.example/{key}"
    return Article(
        title=title,
        text=text,
        source=source,
        url=url,
        canonical_url=url,
        external_id=key,
        published=WEEK + timedelta(days=day),
    )


# Story A: one ship-to-ship transfer, told by two outlets (the oil rule).
TANKER = [
    report(
        "oil-1",
        "Harbour Times",
        "Tanker seen passing oil to North Korean ship in East China Sea",
        "Japan's defence ministry said on Tuesday that its patrol aircraft photographed a North "
        "Korean tanker taking on oil in a ship-to-ship transfer with a foreign vessel in the East "
        "China Sea at night. The ministry said the transfer of refined petroleum to the North "
        "Korean tanker violates United Nations sanctions. Officials said both ships had turned "
        "off their transponders.",
        0,
    ),
    report(
        "oil-2",
        "Coastal Ledger",
        "Japan photographs night-time fuel transfer to North Korean tanker",
        "Patrol aircraft of Japan's defence ministry photographed a North Korean tanker "
        "receiving fuel from a foreign vessel in a ship-to-ship transfer in the East China Sea, "
        "the ministry said on Tuesday. The ministry said the transfer of petroleum to the North "
        "Korean tanker violated UN sanctions. Both vessels had switched off their transponders, "
        "officials said.",
        0,
    ),
]
# Story B: workers in Mongolia (the labour rule; the first report also the oil rule).
MONGOLIA = [
    report(
        "lab-1",
        "Steppe Daily",
        "Mongolia registers new North Korean workers at construction sites",
        "Mongolia's labour ministry registered 400 new North Korean workers at construction "
        "sites near Ulaanbaatar this spring, records seen by the paper show. The new work "
        "permits were issued in breach of UN sanctions that bar new work authorisations for "
        "North Koreans abroad. Officials also said tankers delivered refined petroleum to North "
        "Korea beyond the UN cap in the same months.",
        1,
    ),
    report(
        "lab-2",
        "Nomad Post",
        "Ulaanbaatar building sites take on hundreds of new North Korean labourers",
        "Records show Mongolia's labour ministry registered some 400 new North Korean "
        "labourers at building sites around Ulaanbaatar this spring. Issuing the new work "
        "permits breaches UN sanctions barring new work authorisations for North Korean workers "
        "abroad, the records suggest.",
        1,
    ),
]
# A third outlet's report of the Mongolian event, after the analyst's edit.
MONGOLIA_LATER = report(
    "lab-3",
    "Gobi Courier",
    "Mongolia's labour ministry registers 400 new North Korean workers near Ulaanbaatar",
    "Some 400 new North Korean workers were registered by Mongolia's labour ministry at "
    "construction sites near Ulaanbaatar this spring, records show, with new work permits "
    "issued in breach of UN sanctions that bar new work authorisations for North Koreans abroad.",
    2,
)


class Desk:
    """A service (pipeline, outbox, a console channel into a buffer) on one store."""

    def __init__(self, url: str, story_scope: str = "matched", **route: object) -> None:
        routes = [RouteConfig(channels=["console"], group_interval=0, **route)]
        self.settings = Settings(
            database_url=url, rules_dir=RULES, routes=routes, story_scope=story_scope
        )
        self.store = Store(url)
        self.console = io.StringIO()
        notifiers = {"console": ConsoleNotifier(self.console, fmt="text")}
        self.service = Service(self.settings, store=self.store, notifiers=notifiers)

    def take_in(self, *articles: Article) -> str:
        """Store each report, write its notifications, send them; what the console printed."""
        for article in articles:
            result = self.service.pipeline.ingest([article])
            self.service.notify(result.changed_alerts)
        self.service.deliver()
        printed = self.console.getvalue()
        self.console.seek(0)
        self.console.truncate()
        return printed

    def look(self, seen: Article) -> None:
        """A batch that brings nothing new (``seen`` is stored already): the pipeline's index
        takes in what other processes stored, as a running daemon's next batch does."""
        assert self.service.pipeline.ingest([seen]).new == 0

    def config(self, tmp_path: Path) -> Path:
        """The same settings as a config file, for the command line."""
        path = tmp_path / "monitor.yaml"
        routes = [r.model_dump(by_alias=True) for r in self.settings.routes]
        data = {"database_url": self.settings.database_url, "rules_dir": str(RULES)}
        path.write_text(yaml.safe_dump(data | {"routes": routes}))
        return path

    def close(self) -> None:
        self.service.client.close()
        self.store.close()


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "stories", *args])


def show_alert(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "alerts", "show", *args])


def story_of(store: Store, key: str) -> str:
    with store.session() as session:
        row = session.exec(select(ArticleRow).where(ArticleRow.external_id == key)).one()
        assert row.story_id is not None
        return row.story_id


def alerts_of(store: Store) -> dict[tuple[str, str], tuple[str, int, list[str]]]:
    """(rule, story) -> (alert id, revision, cited reports in order of arrival)."""
    found = {}
    with store.session() as session:
        for alert in session.exec(select(AlertRow)).all():
            cited = session.exec(
                select(ArticleRow.external_id)
                .where(CitationRow.alert_id == alert.id, CitationRow.article_id == ArticleRow.id)
                .order_by(CitationRow.id)
            ).all()
            found[(alert.rule_id, alert.story_id)] = (alert.id, alert.revision, list(cited))
    return found


def outbox(store: Store) -> list[NotificationRow]:
    with store.session() as session:
        return list(session.exec(select(NotificationRow).order_by(NotificationRow.id)).all())


def member_sum(store: Store, story: str) -> dict[str, float]:
    """The story's centroid as the matcher would have grown it from its members' vectors."""
    with store.session() as session:
        rows = session.exec(
            select(ArticleVectorRow)
            .where(ArticleVectorRow.story_id == story)
            .order_by(ArticleVectorRow.article_id)
        ).all()
    centroid: dict[str, float] = {}
    for row in rows:
        centroid = add_to_centroid(centroid, row.vector)
    return {w: round(x, 5) for w, x in centroid.items()}


def stored_vector(store: Store, story: str) -> StoryVectorRow | None:
    with store.session() as session:
        return session.get(StoryVectorRow, story)


@pytest.fixture
def desk(store: Store) -> Desk:
    opened = Desk(store.url)
    yield opened
    opened.close()


def test_merge_moves_the_reports_and_the_alerts_and_sends_one_follow_up(
    desk: Desk, tmp_path: Path
) -> None:
    assert "=== new story" in desk.take_in(*TANKER)
    assert "=== new story" in desk.take_in(*MONGOLIA)
    into, gone = story_of(desk.store, "oil-1"), story_of(desk.store, "lab-1")
    assert into != gone
    before = alerts_of(desk.store)
    oil_into, _, _ = before[(OIL, into)]
    assert before[(OIL, gone)][2] == ["lab-1"] and before[(LABOR, gone)][2] == ["lab-1", "lab-2"]
    rows_before = len(outbox(desk.store))
    assert {r.state for r in outbox(desk.store)} == {"sent"}

    merged = run(desk.config(tmp_path), "merge", into, gone, "--analyst", "ana", "--json")
    assert merged.exit_code == 0, merged.output
    done = json.loads(merged.stdout)
    assert done["articles"] and done["edit"] == 1 and not done["dry_run"]
    assert {(m["rule"], m["how"]) for m in done["alerts"]} == {(OIL, "joined"), (LABOR, "rekeyed")}

    # The reports, their vectors and the centroid are the story's; the merged story is gone.
    assert story_of(desk.store, "lab-2") == into
    with desk.store.session() as session:
        assert session.get(StoryRow, gone) is None
        assert session.get(StoryRow, into).headline == TANKER[0].title  # the earliest report's
        moved = session.exec(select(ArticleVectorRow).where(ArticleVectorRow.story_id == gone))
        assert moved.all() == []
        edit = session.exec(select(StoryEditRow)).one()
        assert (edit.action, edit.story_id, edit.other_story, edit.analyst) == (
            "merge",
            into,
            gone,
            "ana",
        )
    assert stored_vector(desk.store, gone) is None
    vector = stored_vector(desk.store, into)
    assert vector is not None and vector.members == 4
    assert vector.centroid == member_sum(desk.store, into)

    # Alerts follow the story: B's oil source joins A's oil alert as its latest revision; B's
    # labour alert is A's now, found by the id the pipeline looks it up by.
    after = alerts_of(desk.store)
    assert after[(OIL, into)] == (oil_into, 3, ["oil-1", "oil-2", "lab-1"])
    labor = alert_id_for(LABOR, into)
    assert after[(LABOR, into)] == (labor, 2, ["lab-1", "lab-2"])
    assert not [key for key in after if key[1] == gone]

    # One follow-up for the channel, telling of both alerts; no first notice.
    rows = outbox(desk.store)[rows_before:]
    assert [(r.story_id, r.channel, r.kind, r.state) for r in rows] == [
        (into, "console", "update", "pending")
    ]
    assert rows[0].alerts == {oil_into: [2, 3], labor: [0, 2]}
    printed = desk.take_in()
    assert printed.count("=== ") == 1 and "new story" not in printed
    assert f"=== follow-up on {into}: {TANKER[0].title} [{OIL}, {LABOR}]" in printed
    assert "Sources: 1 new, 3 in all" in printed and "[3] Steppe Daily" in printed
    assert "ALERT" not in printed
    # It says why: a merge, from which story, by whom (the "merged" follow-up of issue #13).
    assert (
        f"Merged: 2 reports of story {gone} ({MONGOLIA[0].title}) joined this story, by ana"
        in printed
    )

    # The pipeline that indexed B before the merge sends B's next report to A's alerts.
    printed = desk.take_in(MONGOLIA_LATER)
    assert story_of(desk.store, "lab-3") == into
    assert alerts_of(desk.store)[(LABOR, into)] == (labor, 3, ["lab-1", "lab-2", "lab-3"])
    assert f"=== follow-up on {into}" in printed and "Sources: 1 new, 3 in all" in printed
    assert "Gobi Courier" in printed and "Nomad Post" not in printed
    assert "Merged:" not in printed  # told once, with the follow-up the merge sent

    shown = run(desk.config(tmp_path), "show", into)
    assert f"merged from {gone} by ana" in shown.stdout
    assert f"came with {gone}" in shown.stdout
    away = run(desk.config(tmp_path), "show", gone, "--json")
    assert away.exit_code == 0 and json.loads(away.stdout)["merged_into"] == into

    # An alert id an analyst still holds (from a message) leads to where its sources are now.
    for rule, now_id in ((LABOR, labor), (OIL, oil_into)):
        old = alert_id_for(rule, gone)
        shown = show_alert(desk.config(tmp_path), old, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["id"] == now_id
        assert (
            f"alert {old} went into {now_id} when story {gone} was merged into {into} by ana"
            in (shown.stderr)
        )
    unknown = show_alert(desk.config(tmp_path), "al-0000000000")
    assert unknown.exit_code == 1 and "no alert with id 'al-0000000000'" in unknown.stderr


def test_unsent_notices_of_the_merged_story_are_skipped_and_their_news_goes_once(
    desk: Desk, tmp_path: Path
) -> None:
    desk.take_in(*TANKER)
    for article in MONGOLIA:  # stored and queued, not sent yet
        desk.service.notify(desk.service.pipeline.ingest([article]).changed_alerts)
    into, gone = story_of(desk.store, "oil-1"), story_of(desk.store, "lab-1")
    with desk.store.session() as session:
        session.add(SlackThread(channel="C1", story=gone, ts="1700000000.000100"))
        session.commit()
    assert run(desk.config(tmp_path), "merge", into, gone).exit_code == 0

    rows = [r for r in outbox(desk.store) if r.story_id == gone]
    assert rows and {r.state for r in rows} == {"skipped"}
    assert all(f"merged into {into}" in r.last_error for r in rows)
    with desk.store.session() as session:  # follow-ups of the story thread under B's message
        assert session.get(SlackThread, ("C1", into)).ts == "1700000000.000100"
    printed = desk.take_in()
    # The channel never had B's alerts: the labour alert is news to it, the oil sources too.
    assert printed.count("Steppe Daily") == 2 and printed.count("Nomad Post") == 1
    assert f"=== follow-up on {into}" in printed and "Sources: 1 new, 3 in all" in printed
    assert {r.state for r in outbox(desk.store)} == {"sent", "skipped"}


def test_a_second_process_merges_and_the_first_joins_the_next_report_to_the_right_story(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = Desk(url), Desk(url)
    try:
        first.take_in(*TANKER)
        second.take_in(*MONGOLIA)
        first.look(TANKER[0])  # its index reads what the other stored: story B, with its centroid
        into, gone = story_of(first.store, "oil-1"), story_of(first.store, "lab-1")
        assert gone in first.service.pipeline.stories.events.entries
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(first.config(tmp_path))]
            + ["stories", "merge", into, gone, "--analyst", "ana"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert f"{gone} was merged into {into}" in done.stdout

        printed = first.take_in(MONGOLIA_LATER)
        assert story_of(first.store, "lab-3") == into
        entry = first.service.pipeline.stories.events.get(gone)
        assert entry is not None and entry.keys == () and entry.members == 0  # unreachable
        assert first.service.pipeline.stories.events.get(into).members == 5
        assert "=== follow-up on" in printed and "new story" not in printed
    finally:
        first.close()
        second.close()


def test_split_starts_a_story_with_its_own_alerts_and_rebuilds_the_old_centroid(
    desk: Desk, tmp_path: Path
) -> None:
    desk.take_in(*MONGOLIA)
    story = story_of(desk.store, "lab-1")
    assert story_of(desk.store, "lab-2") == story
    with desk.store.session() as session:
        leaving = session.exec(select(ArticleRow).where(ArticleRow.external_id == "lab-1")).one()
    old_labor, _, _ = alerts_of(desk.store)[(LABOR, story)]
    replica = Desk(desk.store.url)  # another process's pipeline, which indexed the story
    replica.look(MONGOLIA[0])
    assert replica.service.pipeline.stories.events.get(story).members == 2
    rows_before = len(outbox(desk.store))

    split = run(desk.config(tmp_path), "split", story, str(leaving.id), "--json")
    assert split.exit_code == 0, split.output
    done = json.loads(split.stdout)
    new = done["other_story"]
    assert new not in (story, "") and done["notices"] == 1
    assert {(m["rule"], m["how"]) for m in done["alerts"]} == {(OIL, "emptied"), (LABOR, "left")}

    # The article starts the new story; the old one keeps the rest, its centroid rebuilt.
    assert story_of(desk.store, "lab-1") == new and story_of(desk.store, "lab-2") == story
    with desk.store.session() as session:
        assert session.get(StoryRow, story).headline == MONGOLIA[1].title
        assert session.get(StoryRow, new).headline == MONGOLIA[0].title
        started = session.get(ArticleVectorRow, leaving.id)
        assert (started.story_id, started.similarity, started.shared) == (new, None, [])
        article_vector = started.vector
    old_vector, new_vector = stored_vector(desk.store, story), stored_vector(desk.store, new)
    assert old_vector.members == 1 and old_vector.centroid == member_sum(desk.store, story)
    assert new_vector.members == 1 and new_vector.centroid == article_vector

    # Its citations left the old story's alerts and opened the new story's.
    alerts = alerts_of(desk.store)
    assert alerts[(LABOR, story)] == (old_labor, 1, ["lab-2"])
    assert (OIL, story) not in alerts
    assert alerts[(OIL, new)][1:] == (1, ["lab-1"]) and alerts[(LABOR, new)][1:] == (1, ["lab-1"])
    rows = outbox(desk.store)
    assert [(r.story_id, r.kind) for r in rows[rows_before:]] == [(new, "new")]
    # What the channel was sent of the old alert is renumbered: the first notice told of
    # lab-1, which left, the follow-up of lab-2, now the alert's first and only source.
    told = [r.alerts[old_labor] for r in rows[:rows_before] if old_labor in r.alerts]
    assert told == [[0, 0], [0, 1]]
    printed = desk.take_in()
    assert f"=== new story {new}: {MONGOLIA[0].title} [{OIL}, {LABOR}]" in printed

    # The replica's index drops the stale centroid at its next look.
    replica.look(MONGOLIA[0])
    entry = replica.service.pipeline.stories.events.get(story)
    assert entry.members == 1 and entry.centroid == old_vector.centroid
    assert replica.service.pipeline.stories.events.get(new).centroid == article_vector
    replica.close()

    # A later report is a follow-up numbered right: the one new source, whichever story.
    printed = desk.take_in(MONGOLIA_LATER)
    joined = story_of(desk.store, "lab-3")
    assert f"=== follow-up on {joined}" in printed and "Sources: 1 new, 2 in all" in printed
    assert "[2] Gobi Courier" in printed and "[1]" not in printed

    shown = run(desk.config(tmp_path), "show", story).stdout
    assert f"article {leaving.id} split off into {new}" in shown
    # The oil alert ended with the split: its id leads to the new story's, which cites lab-1.
    followed = show_alert(desk.config(tmp_path), alert_id_for(OIL, story))
    assert followed.exit_code == 0, followed.output
    assert alerts[(OIL, new)][0] in followed.stdout and MONGOLIA[0].source in followed.stdout
    assert f"ended when story {story} was split" in followed.stderr


def test_dry_run_says_what_would_move_and_changes_nothing(desk: Desk, tmp_path: Path) -> None:
    desk.take_in(*TANKER, *MONGOLIA)
    into, gone = story_of(desk.store, "lab-1"), story_of(desk.store, "oil-1")
    before = (alerts_of(desk.store), [(r.key, r.state, r.alerts) for r in outbox(desk.store)])
    config = desk.config(tmp_path)

    dry = run(config, "merge", into, gone, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"{gone} would be merged into {into}: 2 report(s) moved" in dry.stdout
    assert "console: a follow-up (update) on al-" in dry.stdout
    assert dry.stdout.rstrip().endswith("nothing was changed (--dry-run)")
    after = (alerts_of(desk.store), [(r.key, r.state, r.alerts) for r in outbox(desk.store)])
    assert after == before and story_of(desk.store, "oil-1") == gone

    # Merged for real into the later story, it takes the earlier story's headline.
    assert run(config, "merge", into, gone).exit_code == 0
    with desk.store.session() as session:
        assert session.get(StoryRow, into).headline == TANKER[0].title


def test_a_silenced_or_quiet_route_is_respected(store: Store, tmp_path: Path) -> None:
    quiet = Desk(store.url, updates="none")
    try:
        quiet.take_in(*TANKER, *MONGOLIA)
        into, gone = story_of(store, "oil-1"), story_of(store, "lab-1")
        config = quiet.config(tmp_path)
        done = run(config, "merge", into, gone, "--json")
        assert done.exit_code == 0, done.output
        states = {(f["kind"], f["state"]) for f in json.loads(done.stdout)["followups"]}
        assert states == {("update", "skipped")}  # follow-ups are off on this route
        assert quiet.take_in() == ""
    finally:
        quiet.close()


def silenced(desk: Desk, tmp_path: Path, story: str) -> Path:
    """The desk's config, after silencing ``story`` through the command line."""
    config = desk.config(tmp_path)
    added = CliRunner().invoke(
        cli, ["--config", str(config), "silence", "add", "--story", story, "--reason", "known"]
    )
    assert added.exit_code == 0, added.output
    return config


def test_silence_keeps_the_follow_up_recorded_not_sent(desk: Desk, tmp_path: Path) -> None:
    desk.take_in(*TANKER, *MONGOLIA)
    into, gone = story_of(desk.store, "oil-1"), story_of(desk.store, "lab-1")
    config = silenced(desk, tmp_path, into)
    assert run(config, "merge", into, gone).exit_code == 0
    assert [r.state for r in outbox(desk.store) if r.story_id == into][-1] == "silenced"
    assert desk.take_in() == ""


def test_a_silence_on_the_merged_story_is_named_not_carried(desk: Desk, tmp_path: Path) -> None:
    desk.take_in(*TANKER, *MONGOLIA)
    into, gone = story_of(desk.store, "oil-1"), story_of(desk.store, "lab-1")
    config = silenced(desk, tmp_path, gone)
    done = run(config, "merge", into, gone)
    assert done.exit_code == 0, done.output
    assert f"silence(s) 1 on story {gone} match nothing now; {into} is not silenced" in (
        done.stderr
    )
    # The merge's follow-up goes out: the story merged into was never silenced.
    assert [r.state for r in outbox(desk.store) if r.story_id == into][-1] == "pending"
    assert f"=== follow-up on {into}" in desk.take_in()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("merge", "{a}", "{a}"), "cannot merge story '{a}' into itself"),
        (("merge", "{a}", "st-nope"), "no story 'st-nope' in the store"),
        (("split", "{a}", "{lone}"), "article {lone} is not in story '{a}' (it is in {b})"),
        (("split", "{b}", "{lone}"), "article {lone} is the only report of story '{b}'"),
        (("split", "{a}", "999"), "no article 999 in the store"),
        (("merge", "{a}", "{gone}"), "story '{gone}' was merged into {a} by ana on"),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    # Every article a story, so that the weather report (no rule's) is a story of one.
    desk = Desk(f"sqlite:///{tmp_path / 'm.db'}", story_scope="all")
    try:
        desk.take_in(*TANKER, MONGOLIA[0], report("x-1", "Other", "Weather", "Sunny.", 3))
        names = {
            "a": story_of(desk.store, "oil-1"),
            "b": story_of(desk.store, "x-1"),
            "gone": story_of(desk.store, "lab-1"),
        }
        with desk.store.session() as session:
            lone = session.exec(select(ArticleRow.id).where(ArticleRow.external_id == "x-1"))
            names["lone"] = str(lone.one())
        config = desk.config(tmp_path)
        assert run(config, "merge", names["a"], names["gone"], "--analyst", "ana").exit_code == 0
        result = run(config, *(a.format(**names) for a in args))
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {said.format(**names)}")
        assert len(result.output.strip().splitlines()) == 1
    finally:
        desk.close()


def test_every_channel_says_a_follow_up_comes_from_a_merge() -> None:
    from monitor.delivery.channels.base import MergeNote, Message
    from monitor.delivery.channels.console.render import message_text
    from monitor.delivery.channels.email.render import render_html, render_text
    from monitor.delivery.channels.slack.render import render
    from monitor.delivery.render import message_json

    note = MergeNote("st-b", "Tanker <!channel> & co", 2, "ana", "same ship")
    message = Message("k1", "any", "update", "st-a", "Tanker seen", [], merges=[note])
    said = "Merged: 2 reports of story st-b (Tanker <!channel> & co) joined this story, by ana"
    assert f"{said}: same ship" in message_text(message)
    assert f"{said}: same ship" in render_text(message)
    assert "Tanker &lt;!channel&gt; &amp; co" in render_html(message)  # escaped, not markup
    slack = json.dumps(render(message))
    assert "Tanker &lt;!channel&gt; &amp; co" in slack and "<!channel>" not in slack
    assert message_json(message)["merges"] == [note.to_json()]
    plain = Message("k2", "any", "update", "st-a", "Tanker seen", [])
    assert "Merged" not in message_text(plain) and message_json(plain)["merges"] == []

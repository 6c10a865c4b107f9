"""Stories, follow-ups and silences: one alert per story, every source cited, nothing lost."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from monitor.alerting.silences import add_silence
from monitor.config import RouteConfig
from monitor.delivery.channels.console import ConsoleNotifier
from monitor.models import Article
from monitor.service.cycle import Service
from monitor.store import Store
from monitor.store.tables import ArticleRow
from monitor.util.dates import parse_date
from tests.conftest import ROOT, SEED_FILES, make_settings

LABOR, OIL = "dprk-overseas-labor", "dprk-oil-transfer"
CORPUS = {
    item["id"]: item
    for item in map(json.loads, (ROOT / "tests/corpus/articles.jsonl").read_text().splitlines())
}


TITLES = [
    "Russia allowing thousands of North Korean workers into the country: report",
    "Russia lets in thousands of North Korean workers despite UN sanctions",
]


def seed(n: int, published: str, source: str, **kw) -> Article:
    text = SEED_FILES[n].read_text(encoding="utf-8")
    return Article(
        title=kw.pop("title", TITLES[n]),
        text=text,
        source=source,
        external_id=f"{source}-{n}",
        published=parse_date(published),
        **kw,
    )


def third_outlet(published: str) -> Article:
    """Another outlet's rewrite of the second seed: fewer paragraphs, words changed."""
    lines = SEED_FILES[1].read_text().splitlines()[:7]
    text = (
        "\n".join(lines)
        .replace("Russia is allowing", "Moscow has been letting")
        .replace("The Wall Street Journal", "the Journal")
    )
    return Article(
        title="Russia takes in North Korean workers, paper says",
        text=text,
        source="Third Outlet",
        external_id="third-1",
        published=parse_date(published),
    )


class Harness:
    def __init__(self, tmp_path, story_scope: str = "matched", **route) -> None:
        self.out = io.StringIO()
        settings = make_settings(
            f"sqlite:///{tmp_path / 's.db'}",
            [],
            routes=[RouteConfig(channels=["console"], group_interval=0, **route)],
            story_scope=story_scope,
        )
        self.service = Service(
            settings,
            store=Store(settings.database_url),
            notifiers={"console": ConsoleNotifier(self.out)},
        )

    def feed(self, *articles: Article) -> list[str]:
        result = self.service.pipeline.ingest(articles)
        self.service.notify(result.changed_alerts)
        self.service.deliver()
        out = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return [m for m in re.split(r"(?m)^=== ", out) if m.strip()]

    def stories(self) -> set[str]:
        from sqlmodel import select

        from monitor.store.tables import ArticleRow

        with self.service.store.session() as session:
            return set(session.exec(select(ArticleRow.story_id)).all())


def test_seed_pair_is_one_story_and_one_message_listing_both_rules(tmp_path):
    h = Harness(tmp_path)
    messages = h.feed(
        seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire")
    )
    assert len(h.stories()) == 1
    assert len(messages) == 1, messages
    (message,) = messages
    assert f"[{LABOR}, {OIL}]" in message or f"[{OIL}, {LABOR}]" in message
    assert message.count("\nALERT [HIGH]") == 2


def test_third_outlet_a_day_later_adds_a_citation_and_one_follow_up(tmp_path):
    h = Harness(tmp_path, updates="each")
    h.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire"))
    (follow_up,) = h.feed(third_outlet("2019-08-03T10:00:00Z"))
    assert follow_up.startswith("follow-up on")
    assert "UPDATE [HIGH] New North Korean workers" in follow_up
    assert "Sources: 1 new, 3 in all" in follow_up
    assert "[3] Third Outlet: Russia takes in North Korean workers" in follow_up
    assert "Ledger" not in follow_up  # a follow-up is short: only the new source
    assert len(h.stories()) == 1
    assert h.feed(third_outlet("2019-08-03T10:00:00Z")) == []  # the same copy again: nothing


def test_updates_none_stays_silent_but_cites(tmp_path):
    h = Harness(tmp_path, updates="none")
    h.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire"))
    assert h.feed(third_outlet("2019-08-03T10:00:00Z")) == []
    from monitor.alerting.alerts import load_alert
    from monitor.store.alerts import list_alert_ids

    with h.service.store.session() as session:
        alerts = {a.rule: a for a in (load_alert(session, i) for i in list_alert_ids(session))}
    assert [c.source for c in alerts[LABOR].citations] == ["Ledger", "Wire", "Third Outlet"]


def test_unrelated_dprk_stories_of_one_week_stay_apart(tmp_path):
    """Twelve labelled reports of eight stories (the corpus's ``story`` key: the WSJ work-permit
    story has four outlets, the Nam San 8 sightings two), all in one week: no story joins two
    of them, though a story's outlets may not all find each other."""
    h = Harness(tmp_path)
    week = ["2019-08-01", "2019-08-02", "2019-08-03", "2019-08-04", "2019-08-05"]
    picks = [i for i, item in CORPUS.items() if item["labels"]][:12]
    articles = [
        Article(
            title=CORPUS[i]["title"],
            text=CORPUS[i]["text"],
            source=CORPUS[i]["source"],
            external_id=i,
            published=parse_date(week[n % 5]),
        )
        for n, i in enumerate(picks)
    ]
    h.feed(*articles)
    with h.service.store.session() as session:
        rows = session.exec(select(ArticleRow.external_id, ArticleRow.story_id)).all()
    story_of = dict(rows)
    merged = {}
    for i in picks:
        merged.setdefault(story_of[i], set()).add(CORPUS[i]["story"])
    assert all(len(stories) == 1 for stories in merged.values()), merged  # none joins two
    assert len(merged) <= 8 + 2  # and at most two of the eight are split


def test_a_report_dated_years_later_does_not_cut_an_event_in_two(tmp_path):
    """Feeds are polled in any order: a report of 2021 arriving between two reports of a 2019
    event must not push the 2019 story out of reach (it once did: the second seed opened a
    story of its own when the console's browser test polled its hostile feed first)."""
    h = Harness(tmp_path)
    h.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"))
    later = CORPUS["c011"]
    h.feed(
        Article(
            title=later["title"],
            text=later["text"],
            source=later["source"],
            external_id="later",
            published=parse_date("2021-03-01"),
        )
    )
    h.feed(seed(1, "2019-08-02T09:40:00Z", "Wire"))
    with h.service.store.session() as session:
        rows = dict(session.exec(select(ArticleRow.external_id, ArticleRow.story_id)).all())
    assert rows["Ledger-0"] == rows["Wire-1"] != rows["later"]


def test_a_story_older_than_the_window_does_not_absorb_a_new_event(tmp_path):
    h = Harness(tmp_path)
    h.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"))
    h.feed(seed(1, "2019-08-20T09:40:00Z", "Wire"))
    assert len(h.stories()) == 2


def test_a_second_process_joins_the_story_the_first_started(tmp_path):
    first, second = Harness(tmp_path), Harness(tmp_path)
    first.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"))
    second.feed(seed(1, "2019-08-02T09:40:00Z", "Wire"))
    assert len(second.stories()) == 1


def test_silenced_alerts_are_recorded_not_sent(tmp_path):
    from sqlmodel import select

    from monitor.store.tables import NotificationRow

    h = Harness(tmp_path)
    with h.service.store.session() as session:
        add_silence(session, timedelta(days=7), "known story", rule=OIL)
        session.commit()
    (message,) = h.feed(seed(1, "2019-08-02T09:40:00Z", "Wire"))
    assert LABOR in message and OIL not in message
    with h.service.store.session() as session:
        states = {r.state for r in session.exec(select(NotificationRow)).all()}
    assert states == {"sent", "silenced"}


def test_alerts_show_and_silence_commands(tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli

    h = Harness(tmp_path)
    h.feed(seed(1, "2019-08-02T09:40:00Z", "Wire"))
    db = h.service.settings.database_url
    run = CliRunner().invoke
    listed = [
        json.loads(x)
        for x in run(cli, ["alerts", "list", "--json", "--db", db]).stdout.splitlines()
    ]
    labor = next(a for a in listed if a["rule"] == LABOR)
    assert [(d["channel"], d["kind"], d["state"], d["attempts"]) for d in labor["deliveries"]] == [
        ("console", "new", "sent", 1)
    ]
    assert labor["citations"][0]["rule_version"] == labor["rule_version"]
    shown = run(cli, ["alerts", "show", labor["id"], "--db", db])
    assert shown.exit_code == 0 and "Delivery: console new sent (1 attempt(s))" in shown.output
    assert run(cli, ["alerts", "show", "al-nope", "--db", db]).exit_code == 1

    added = run(
        cli,
        [
            "silence",
            "add",
            "--match",
            "work permits",
            "--for",
            "2d",
            "--reason",
            "seen",
            "--db",
            db,
        ],
    )
    assert added.exit_code == 0 and added.output.startswith("silence 1 until")
    assert "match='work permits'" in run(cli, ["silence", "list", "--db", db]).output
    assert run(cli, ["silence", "expire", "1", "--db", db]).exit_code == 0
    assert run(cli, ["silence", "list", "--db", db]).output == ""
    bad = run(cli, ["silence", "add", "--reason", "x", "--db", db])
    assert bad.exit_code == 2 and "needs --rule, --story or --match" in bad.output


def test_digest_route_sends_one_message_for_several_stories(tmp_path):
    h = Harness(tmp_path, mode="digest", digest_interval=0)
    # An evasion report of another story than the seeds' (the WSJ work-permit story).
    coal = next(
        x
        for x in CORPUS.values()
        if "dprk-sanctions-evasion" in x["labels"] and x["story"] != "2018-wsj-russian-work-permits"
    )
    messages = h.feed(
        seed(1, "2019-08-02T09:40:00Z", "Wire"),
        Article(
            title=coal["title"],
            text=coal["text"],
            source=coal["source"],
            external_id="coal",
            published=parse_date("2019-08-02"),
        ),
    )
    assert len(h.stories()) == 2
    (digest,) = messages
    count = int(re.match(r"DIGEST: (\d+) alert", digest).group(1))
    assert count >= 3 and digest.count("\nALERT [") == count
    assert len(set(re.findall(r"story (st-\w+)", digest))) == 2


def test_repeat_interval_re_announces_a_growing_story_when_follow_ups_are_off(tmp_path):
    from sqlmodel import select

    from monitor.store.tables import NotificationRow

    h = Harness(tmp_path, updates="none", repeat_interval=3600)
    h.feed(seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire"))
    assert h.feed(third_outlet("2019-08-03T10:00:00Z")) == []  # within the interval: quiet
    with h.service.store.session() as session:  # an hour and more passes
        for row in session.exec(select(NotificationRow)).all():
            if row.sent is not None:
                row.sent = row.sent - timedelta(hours=2)
                session.add(row)
        session.commit()
    fourth = third_outlet("2019-08-03T12:00:00Z")
    fourth.external_id, fourth.source = "fourth-1", "Fourth Outlet"
    fourth.text = fourth.text.replace("Moscow", "The Kremlin") + "\nMore details emerged."
    (reminder,) = h.feed(fourth)
    assert reminder.startswith("follow-up on") and "Fourth Outlet" in reminder
    assert "Third Outlet" in reminder  # every source since the last message


# -- the event matcher (issue #13) ----------------------------------------------------------

STORY_RECORDS = {
    item["id"]: item
    for item in map(json.loads, (ROOT / "tests/corpus/stories.jsonl").read_text().splitlines())
}


def story_article(record_id: str, published: str, **changes) -> Article:
    record = STORY_RECORDS[record_id]
    article = Article(
        title=record["title"],
        text=record["text"],
        source=record["source"],
        external_id=record_id,
        url=record["url"],
        published=parse_date(published),
    )
    for name, value in changes.items():
        setattr(article, name, value)
    return article


def test_vessels_are_names_the_text_marks_as_ships():
    from monitor.detect.events.identifiers import vessel_ids

    assert vessel_ids("The tanker Yuk Tung moored beside the North Korean-flagged tanker.") == {
        "yuk tung"
    }
    assert vessel_ids("the Lighthouse Winmore, a Hong Kong-flagged tanker, was seized") == {
        "lighthouse winmore"
    }
    assert vessel_ids("Seoul said the DE YI vessel carried coal.") == {"de yi"}
    assert vessel_ids("The North Korean tanker met a Chinese-flagged ship.") == set()
    assert vessel_ids("IMO number 9074729 and IMO 9074721 were listed.") == {"imo 9074729"}
    listing = ". ".join(f"the tanker Ship{n} Alpha" for n in range(40))
    assert vessel_ids(listing) == set()  # a designation list names too many to veto with
    assert vessel_ids("tanker " + "A" * 100_000) == set()  # no such name, and no slow scan


def test_a_report_of_a_second_ship_is_vetoed_even_when_it_recaps_the_first():
    from monitor.detect.events.identifiers import Spelled, principal, vetoed
    from monitor.detect.events.terms import words_of

    text = (
        "The tanker KOTI was held. The KOTI, a Panama-flagged ship, follows the tanker "
        "Lighthouse Winmore."
    )
    words = Spelled(words_of(text))
    mine = {"koti", "lighthouse winmore"}
    main = principal(mine, words)
    assert main == {"koti"}
    assert vetoed(mine, main, words, {"lighthouse winmore"}, {"lighthouse", "winmore", "oil"})
    assert not vetoed(mine, main, words, {"koti"}, {"koti"})
    assert not vetoed(set(), frozenset(), words, {"koti"}, {"koti"})  # names no vessel: no veto


def test_shared_boilerplate_and_a_hostile_string_do_not_merge_two_events(tmp_path):
    chrome = (
        "By Jane Doe and John Roe\n"
        "Photo: Yonhap News\n"
        "Sign up for our North Korea sanctions newsletter\n"
        "Read more: Kim Jong Un latest\n"
        "All rights reserved. Copyright 2024 Example Media\n"
    )
    hostile = ("zqxvomega hostilepayload quorblat snarfwizzle " * 60).strip()
    h = Harness(tmp_path, story_scope="all")  # the reports match no rule
    veto = STORY_RECORDS["s038"]
    meeting = STORY_RECORDS["s108"]
    h.feed(
        story_article("s038", "2024-03-29", text=chrome + veto["text"] + "\n" + hostile),
        story_article("s108", "2024-03-29", text=chrome + meeting["text"] + "\n" + hostile),
    )
    assert len(h.stories()) == 2


def test_independent_reports_of_one_event_join_one_story_and_say_why(tmp_path):
    from monitor.store.story_vectors import story_members

    h = Harness(tmp_path, story_scope="all")  # a summit: it matches no rule
    h.feed(
        story_article("s108", "2023-09-13T08:00:00Z"),
        story_article("s109", "2023-09-13T12:00:00Z"),
        story_article("s110", "2023-09-13T15:00:00Z"),
    )
    (story,) = h.stories()
    with h.service.store.session() as session:
        members = story_members(session, story)
    assert [m.similarity is None for m in members] == [True, False, False]
    for member in members[1:]:
        assert member.similarity >= 0.18
        assert member.shared and all(weight > 0 for _, weight in member.shared)


def test_the_days_a_lead_names_are_found_on_the_calendar_by_the_report_date():
    from datetime import date

    from monitor.detect.events.days import days_named, on_calendar

    friday = parse_date("2019-08-02T09:00:00Z")  # a Friday

    def named(title: str, body: str) -> tuple[date, ...]:
        return on_calendar(days_named(title, body), friday)

    fired = named("N. Korea fires two projectiles", "North Korea fired two on Friday.")
    assert fired == (date(2019, 8, 2),)
    # a Korean Saturday-morning launch, reported on Friday evening in the US
    assert named("", "It launched early Saturday.") == (date(2019, 8, 3),)
    assert named("", "Seoul said on Wednesday.")[0] == date(2019, 7, 31)
    assert named("", "The report, released Dec. 28, says")[0] == date(2018, 12, 28)
    assert named("", "Officials said yesterday.")[0] == date(2019, 8, 1)
    # a recap first, then the news: both days, in the lead's order
    recap = "After the July 25 test, it fired again on Wednesday."
    assert named("", recap) == (date(2019, 7, 25), date(2019, 7, 31))
    # only the headline and lead: a recap further down names older days
    lead = "Seoul condemned the launch. " + "word " * 80 + "It follows the July 25 test."
    assert named("", lead) == ()
    assert named("", "on February 30") == ()
    # a date at the calendar's end has no days around it, and does not raise
    assert on_calendar(days_named("", "on Friday"), parse_date("9999-12-31")) == ()


def test_a_lead_naming_a_later_day_starts_a_new_story():
    from datetime import date

    from monitor.detect.events.index import StoryEntry
    from monitor.detect.events.join import StoryPolicy

    launch = parse_date("2019-07-31T12:00:00Z")
    entry = StoryEntry("st-1", {"launch": 1.0}, frozenset(), launch, launch, 2)
    policy = StoryPolicy()
    later = parse_date("2019-08-02T12:00:00Z")
    aug2, jul31 = date(2019, 8, 2), date(2019, 7, 31)
    risen = policy.needed(launch, later)
    assert risen > policy.min_similarity
    # the same template two days on, naming its own day: another launch, whatever the words
    assert policy.bar(entry, later, aug2) is None
    # a recap of the story's day first, then a later day: the latest decides, another launch
    assert policy.bar(entry, later, max(jul31, aug2)) is None
    # naming the story's day, or the next (time zones), or none: the risen bar, no less
    assert policy.bar(entry, later, jul31) == risen
    assert policy.bar(entry, later, date(2019, 8, 1)) == risen
    assert policy.bar(entry, later, None) == risen
    # naming a day long before the story: the risen bar
    assert policy.bar(entry, later, date(2019, 6, 1)) == risen


def test_a_vessel_name_needs_its_comma_and_stays_on_its_line():
    from monitor.detect.events.identifiers import vessel_ids

    assert vessel_ids("A source told Yonhap the ship has been held since October.") == set()
    headline = "Panama finds arms on North Korean ship\nPresident Ricardo Martinelli said"
    assert vessel_ids(headline) == set()
    assert vessel_ids("The impounded cargo ship MV Jin Teng set sail.") == {"jin teng"}
    assert vessel_ids('the "Wise Honest," North Korea\'s second largest ship') == {"wise honest"}
    # An office that reports on a ship is no ship's name (stories corpus s170).
    assert vessel_ids("the Ministry of Foreign Affairs, a South Korean ship was held") == set()


def test_by_default_only_reports_that_match_a_rule_form_stories_and_all_count_in_rarity(
    tmp_path,
):
    from monitor.detect.events.rarity import TOTAL, arrival_weight
    from monitor.store.story_vectors import article_vectors
    from monitor.store.tables import utcnow

    h = Harness(tmp_path)
    summit = story_article("s108", "2019-08-01T20:00:00Z")  # matches no rule
    messages = h.feed(
        summit,
        seed(0, "2019-08-01T22:15:00Z", "Ledger"),
        seed(1, "2019-08-02T09:40:00Z", "Wire"),
    )
    assert len(messages) == 1  # the seeds' one story still alerts once
    with h.service.store.session() as session:
        rows = {r.external_id: r for r in session.exec(select(ArticleRow)).all()}
        vectors = article_vectors(session, [r.id for r in rows.values()])
    assert rows[summit.external_id].story_id is None
    assert rows[summit.external_id].id not in vectors  # not read into the event matcher
    seeds = {rows["Ledger-0"].story_id, rows["Wire-1"].story_id}
    assert len(seeds) == 1 and None not in seeds
    # The summit's words still count in how rare a word is: three articles taken in.
    rarity = h.service.pipeline.stories.rarity
    assert rarity.counts[TOTAL] == pytest.approx(3 * arrival_weight(utcnow()), rel=1e-4)
    assert "summit" in summit.text.lower() and rarity.counts.get("summit", 0) > 0

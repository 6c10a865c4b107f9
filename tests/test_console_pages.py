"""The console over real HTTP (the daemon's server on 127.0.0.1) on a store made by replaying
the seeds and a hostile report, on SQLite and PostgreSQL: pages, API, and what they refuse."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.console import Console
from monitor.console.auth import Guard
from monitor.detect.rules.parse import valid_rules
from monitor.service.metrics import Metrics
from monitor.service.web import HealthServer
from monitor.store import Store
from tests.conftest import RULES, SEED_FILES
from tests.test_notify_slack import HOSTILE

HOSTILE_TITLE = '<img src=x onerror="alert(1)"> ' + HOSTILE
HOSTILE_TEXT = (
    f"{HOSTILE}\n\nRussia issued 700 new work permits to North Koreans this year, "
    "<b>officials</b> said. <script>alert(2)</script>"
)


def replay_lines() -> list[dict]:
    return [
        {"id": "seed-a", "text": SEED_FILES[0].read_text(), "published": "2019-08-01T22:15:00Z"},
        {
            "id": "seed-b",
            "text": SEED_FILES[1].read_text(),
            "source": "Global Wire",
            "published": "2019-08-02T09:40:00Z",
        },
        {
            "id": "hostile",
            "title": HOSTILE_TITLE,
            "text": HOSTILE_TEXT,
            "source": "<i>Evil</i> Outlet",
            "url": "javascript:alert(3)",
            "published": "2021-03-01T10:00:00Z",
        },
    ]


def fill(url: str, tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in replay_lines()) + "\n")
    result = CliRunner().invoke(cli, ["replay", "--db", url, str(path)])
    assert result.exit_code == 0, result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}" if request.param == "sqlite" else None
    url = url or request.getfixturevalue("pg_url")
    fill(url, tmp_path)
    return url


class Running:
    def __init__(self, db: str, guard: Guard) -> None:
        self.store = Store(db)
        self.metrics = Metrics()
        rules = valid_rules(RULES)
        self.console = Console(self.store, lambda: rules, guard, self.metrics.verdicts)
        self.server = HealthServer("127.0.0.1", 0, self.metrics.registry, lambda: {}, self.console)
        self.server.start()
        self.client = httpx.Client(base_url=self.server.url, trust_env=False)

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.store.close()


@pytest.fixture
def web(db: str) -> Iterator[Running]:
    running = Running(db, Guard())
    yield running
    running.close()


def story_ids(page: str) -> list[str]:
    return re.findall(r'href="/stories/([^"]+)"', page)


def seed_story(web: Running) -> dict:
    stories = web.client.get("/api/stories").json()["stories"]
    return next(s for s in stories if len(s["alerts"]) == 2)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_list_shows_the_seed_story_with_both_alerts_newest_first(web: Running) -> None:
    page = web.client.get("/")
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    story = seed_story(web)
    assert {a["rule"] for a in story["alerts"]} == {"dprk-overseas-labor", "dprk-oil-transfer"}
    assert story["outlets"] == 2
    assert story_ids(page.text)[1] == story["id"]  # the hostile story of 2021 is newer


def test_filters_search_and_paging(web: Running) -> None:
    api = web.client.get("/api/stories", params={"rule": "dprk-oil-transfer"}).json()
    assert [len(s["alerts"]) for s in api["stories"]] == [2]
    found = web.client.get("/", params={"q": "OIL sanctions violations"}).text
    assert len(story_ids(found)) == 1
    assert story_ids(web.client.get("/", params={"q": "no such words"}).text) == []
    web.console.page_size = 1
    first = web.client.get("/api/stories").json()
    second = web.client.get("/api/stories", params={"page": 2}).json()
    assert first["more"] and not second["more"]
    assert first["stories"][0]["id"] != second["stories"][0]["id"]
    assert web.client.get("/", params={"severity": "loud"}).status_code == 400


def test_story_page_marks_terms_and_escapes_hostile_text(web: Running) -> None:
    stories = web.client.get("/api/stories").json()["stories"]
    hostile = next(s for s in stories if len(s["alerts"]) == 1)
    page = web.client.get(f"/stories/{hostile['id']}").text
    assert "<mark>work permits</mark>" in page or "<mark>permits</mark>" in page
    for raw in ("<script>", "<img src=x", "<b>officials", "<i>Evil", "javascript:"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page


def test_rule_page_chart_verdicts_and_examples(web: Running) -> None:
    page = web.client.get("/rules/dprk-overseas-labor")
    assert page.status_code == 200
    assert "<svg" in page.text and "precision —" in page.text
    assert "Russia issued 700 new work permits" in page.text  # an example of the rule's file
    assert web.client.get("/rules/no-such-rule").status_code == 404


def test_verdict_through_the_form_then_feedback_export(web: Running, db: str) -> None:
    story = seed_story(web)
    page = web.client.get(f"/stories/{story['id']}").text
    oil = r'value="dprk-oil-transfer">\s*<input type="hidden" name="article" value="([^"]+)"'
    article = re.search(oil, page).group(1)
    form = {"csrf": csrf_of(page), "rule": "dprk-oil-transfer", "article": article}
    form |= {"verdict": "not_relevant", "note": "a quote, not a report"}
    posted = web.client.post(f"/stories/{story['id']}/verdicts", data=form)
    assert posted.status_code == 303
    shown = web.client.get(posted.headers["Location"]).text
    assert "Verdict: not relevant: a quote, not a report" in shown
    metrics = web.client.get("/metrics").text
    assert 'monitor_verdicts_total{rule="dprk-oil-transfer",verdict="not_relevant"} 1.0' in metrics
    rule_page = web.client.get("/rules/dprk-oil-transfer").text
    assert "precision 0%" in rule_page and "no_match</span>" in rule_page
    exported = CliRunner().invoke(cli, ["feedback", "export", "--db", db])
    assert exported.exit_code == 0, exported.output
    assert "dprk-oil-transfer:\n  examples:\n    no_match:\n" in exported.output


def test_forms_need_the_csrf_token_and_their_own_origin(web: Running) -> None:
    story = seed_story(web)
    page = web.client.get(f"/stories/{story['id']}").text
    form = {"rule": "dprk-oil-transfer", "article": "x", "verdict": "relevant"}
    assert web.client.post(f"/stories/{story['id']}/verdicts", data=form).status_code == 403
    other = {"Origin": "https://evil.example"}
    with_token = form | {"csrf": csrf_of(page)}
    url = f"/stories/{story['id']}/verdicts"
    assert web.client.post(url, data=with_token, headers=other).status_code == 403
    fresh = httpx.Client(base_url=web.server.url, trust_env=False)  # no CSRF cookie
    assert fresh.post(url, data=with_token).status_code == 403
    fresh.close()


def test_api_verdicts_need_json_and_a_matching_origin(web: Running) -> None:
    story = seed_story(web)
    detail = web.client.get(f"/api/stories/{story['id']}").json()
    source = next(s for s in detail["sources"] if len(s["matches"]) == 2)
    body = {"story": story["id"], "article": source["article"], "rule": "dprk-oil-transfer"}
    body |= {"verdict": "relevant", "note": ""}
    origin = {"Origin": web.server.url}
    as_form = web.client.post("/api/verdicts", data=body, headers=origin)
    assert as_form.status_code == 403
    no_origin = web.client.post("/api/verdicts", json=body)
    assert no_origin.status_code == 403 and "Origin" in no_origin.json()["error"]
    wrong = web.client.post("/api/verdicts", json=body, headers={"Origin": "http://evil"})
    assert wrong.status_code == 403
    saved = web.client.post("/api/verdicts", json=body, headers=origin)
    assert saved.status_code == 201, saved.text
    unknown = web.client.post("/api/verdicts", json=body | {"article": "nope"}, headers=origin)
    assert unknown.status_code == 400
    again = web.client.get(f"/api/stories/{story['id']}").json()
    verdicts = [m["verdict"] for s in again["sources"] for m in s["matches"] if m["verdict"]]
    assert verdicts == ["relevant"]
    assert web.client.get("/api/stories", params={"verdict": "relevant"}).json()["stories"]


def test_a_loopback_console_answers_only_to_loopback_names(web: Running) -> None:
    rebinding = web.client.get("/", headers={"Host": "attacker.example:8080"})
    assert rebinding.status_code == 421
    assert web.client.get("/healthz", headers={"Host": "attacker.example"}).status_code == 200


@pytest.fixture
def guarded(db: str) -> Iterator[Running]:
    running = Running(db, Guard(token="s3cret-token", basic={"ana": "pa55"}))
    yield running
    running.close()


def test_with_credentials_every_page_and_call_needs_them(guarded: Running) -> None:
    client = guarded.client
    for path in ("/", "/api/stories", "/rules/dprk-oil-transfer"):
        assert client.get(path).status_code == 401, path
    assert client.get("/", headers={"Host": "monitor.internal"}).status_code == 401
    assert "Basic" in client.get("/").headers["WWW-Authenticate"]
    assert client.get("/healthz").status_code == 200  # the probes stay open
    bearer = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/api/stories", headers=bearer).status_code == 200
    assert client.get("/", auth=("ana", "pa55")).status_code == 200
    assert client.get("/", auth=("ana", "wrong")).status_code == 401
    wrong = client.post("/login", data={"token": "guess", "next": "/"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    login = client.post("/login", data={"token": "s3cret-token", "next": "//evil.example/"})
    assert login.status_code == 303 and login.headers["Location"] == "/"
    assert "s3cret" not in login.headers["set-cookie"]
    assert client.get("/").status_code == 200  # the session cookie

"""Render the seed alerts as Slack and email see them, into docs/examples/.

Runs the default config's two seed feeds (The Daily Ledger, Global Wire) through the daemon's
own pipeline into a throwaway store, so the examples show real outlets, links, times and match
marks. Feeds rather than the bare seed .txt files (``monitor replay``) because a replayed text
file has no outlet, link or date. Writes:

- ``slack-new.json``: the story's first message (both rules, every source), as POSTed to Slack;
- ``slack-update.json``: the follow-up when Global Wire's report adds a source;
- ``email-new.eml`` and ``email-new.html``: the first message as mail;
- ``email-new.png``: that HTML in headless Chromium, if ``chromium`` is installed.

Usage: ``.venv/bin/python docs/examples/make_examples.py``
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from monitor.alerting.alerts import load_alert  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.delivery.channels.base import Message  # noqa: E402
from monitor.delivery.channels.email.render import build_email, render_html  # noqa: E402
from monitor.delivery.channels.slack.render import render  # noqa: E402
from monitor.models import AlertView  # noqa: E402
from monitor.service.cycle import Service  # noqa: E402
from monitor.store import Store  # noqa: E402


def seed_alerts() -> list[AlertView]:
    settings = load_settings(ROOT / "config" / "monitor.yaml")
    with tempfile.TemporaryDirectory(prefix="monitor-examples-") as tmp:
        store = Store(f"sqlite:///{tmp}/examples.db")
        try:
            service = Service(settings, store=store, notifiers={})
            result = service.pipeline.ingest(
                [
                    a
                    for outcome in service.poller.poll(service.poller.due(True))
                    for a in outcome.articles
                ]
            )
            with store.session() as session:
                alerts = [load_alert(session, a) for a in result.changed_alerts]
        finally:
            store.close()
    return sorted((a for a in alerts if a is not None), key=lambda a: a.created)


def messages(alerts: list[AlertView]) -> tuple[Message, Message]:
    story = alerts[0].story
    new = Message(
        key=f"{story}:slack:new:1",
        channel="analysts",
        kind="new",
        story=story,
        headline=alerts[0].headline,
        alerts=alerts,
    )
    labor = next(a for a in alerts if a.rule == "dprk-overseas-labor")
    later = [c.id for c in labor.citations[1:]]
    update = Message(
        key=f"{story}:slack:update:2",
        channel="analysts",
        kind="update",
        story=story,
        headline=labor.headline,
        alerts=[labor],
        new_sources={labor.id: later},
    )
    return new, update


def write_json(path: Path, message: Message) -> None:
    payloads = render(message)
    data = payloads[0] if len(payloads) == 1 else payloads
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    alerts = seed_alerts()
    if not alerts:
        raise SystemExit("the seed feeds produced no alerts")
    new, update = messages(alerts)
    write_json(OUT / "slack-new.json", new)
    write_json(OUT / "slack-update.json", update)

    mail = build_email(new, "Sanctions monitor <monitor@example.org>", ["analysts@example.org"])
    del mail["Date"]
    mail["Date"] = format_datetime(datetime(2019, 8, 2, 9, 45, tzinfo=UTC))
    (OUT / "email-new.eml").write_bytes(bytes(mail))
    print(f"wrote {(OUT / 'email-new.eml').relative_to(ROOT)}")
    page = OUT / "email-new.html"
    page.write_text(render_html(new), encoding="utf-8")
    print(f"wrote {page.relative_to(ROOT)}")

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: skipped email-new.png (apt-get install chromium)")
        return
    png = OUT / "email-new.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=900,1400",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"wrote {png.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

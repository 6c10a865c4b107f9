"""The SMTP server is down for the first three attempts: the alert arrives once it is back,
and nothing else is lost meanwhile."""

from __future__ import annotations

import io
from collections.abc import Iterator

from aiosmtpd.controller import Controller
from sqlmodel import select

from monitor.config import ChannelConfig, DeliveryConfig, RouteConfig
from monitor.delivery.channels.console import ConsoleNotifier
from monitor.service.cycle import Service, build_notifiers
from monitor.store import Store
from monitor.store.tables import NotificationRow
from tests.conftest import make_settings
from tests.test_notify_email import Inbox, free_port
from tests.test_stories import seed, third_outlet


def serve(inbox: Inbox, port: int) -> Iterator[None]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def test_smtp_down_for_three_attempts_then_back(tmp_path):
    port = free_port()  # nothing listens here until the server "comes back"
    settings = make_settings(
        f"sqlite:///{tmp_path / 'o.db'}",
        [],
        channels={
            "mail": ChannelConfig(
                type="email",
                host="127.0.0.1",
                port=port,
                security="plain",
                sender="monitor@example.org",
                recipients=["desk@example.org"],
                timeout=5,
            ),
            "console": ChannelConfig(type="console"),
        },
        routes=[RouteConfig(channels=["mail", "console"], group_interval=0)],
        delivery=DeliveryConfig(backoff=0, max_age=3600),  # retry at every deliver()
    )
    out = io.StringIO()
    notifiers = {**build_notifiers(settings), "console": ConsoleNotifier(out)}
    service = Service(settings, store=Store(settings.database_url), notifiers=notifiers)

    def ingest(*articles) -> None:
        service.notify(service.pipeline.ingest(articles).changed_alerts)

    ingest(seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire"))
    retrying = []
    for attempt in range(3):
        report = service.deliver()
        assert report.failed == 0, attempt
        retrying.append(report.retrying)
        if attempt == 0:  # a later source arrives while the server is down
            ingest(third_outlet("2019-08-03T10:00:00Z"))
    assert retrying == [1, 1, 1]  # the first notice; its follow-up waits for it, in order
    assert out.getvalue().count("=== ") == 2  # the console got the story and its follow-up

    with service.store.session() as session:
        rows = session.exec(
            select(NotificationRow)
            .where(NotificationRow.channel == "mail")
            .order_by(NotificationRow.id)
        ).all()
    assert [(r.kind, r.state, r.attempts) for r in rows] == [
        ("new", "pending", 3),
        ("update", "pending", 0),
    ]
    assert "Connection refused" in rows[0].last_error

    inbox = Inbox()
    for _ in serve(inbox, port):
        report = service.deliver()
        assert report.sent == 2 and report.retrying == 0
        assert service.deliver().sent == 0  # nothing left, nothing sent twice
    first, follow_up = [m for _, m in inbox.mails]  # in order: the notice, then the follow-up
    assert "dprk-overseas-labor" in first["Subject"] or "dprk-oil-transfer" in first["Subject"]
    body = first.get_body(("plain",)).get_content()
    assert "Ledger" in body and "Wire" in body
    assert "Third Outlet" in follow_up.get_body(("plain",)).get_content()
    assert follow_up["In-Reply-To"]
    service.close()

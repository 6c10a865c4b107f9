"""Routes choose channels by rule, severity, tags and the rule's labels."""

from datetime import UTC, datetime

from monitor.alerting.routes import channels_for
from monitor.config import RouteConfig
from monitor.models import AlertView


def alert(**kw) -> AlertView:
    now = datetime.now(UTC)
    base = dict(
        id="al-1",
        rule="dprk-oil-transfer",
        title="t",
        severity="high",
        tags=["dprk"],
        story="st-1",
        headline="h",
        rule_version="v",
        revision=1,
        created=now,
        updated=now,
        labels={"team": "dprk"},
    )
    return AlertView(**{**base, **kw})


def test_first_matching_route_wins_unless_continue():
    routes = [
        RouteConfig(labels={"team": "iran"}, channels=["iran-desk"]),
        RouteConfig(
            labels={"team": "dprk"}, severities=["high"], channels=["slack"], **{"continue": True}
        ),
        RouteConfig(tags=["dprk"], channels=["email"], updates="none"),
        RouteConfig(channels=["console"]),
    ]
    assert channels_for(routes, alert(), "new") == ["slack", "email"]
    assert channels_for(routes, alert(), "update") == ["slack"]
    assert channels_for(routes, alert(severity="low"), "new") == ["email"]
    assert channels_for(routes, alert(labels={"team": "iran"}, tags=[]), "new") == ["iran-desk"]
    assert channels_for(routes, alert(labels={}, tags=[]), "new") == ["console"]


def test_a_channel_added_later_gets_new_stories_not_the_backlog(seed_server, db_url):
    """Restarting with a new route must not send it every recent alert: only what changes
    from then on (the outbox sweep looks for unqueued revisions, not for recent alerts)."""
    import io

    from monitor.config import FeedConfig
    from monitor.delivery.channels.console import ConsoleNotifier
    from monitor.service.cycle import Service
    from monitor.store import Store
    from tests.conftest import make_settings
    from tests.test_seeds_end_to_end import FEEDS, alert_blocks

    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    first, later = io.StringIO(), io.StringIO()
    settings = make_settings(db_url, feeds)
    Service(settings, store=Store(db_url), notifiers={"console": ConsoleNotifier(first)}).cycle()
    assert len(alert_blocks(first.getvalue())) == 2

    channels = {**settings.channels, "later": settings.channels["console"]}
    routes = [RouteConfig(channels=["console", "later"])]
    grown = make_settings(db_url, feeds, channels=channels, routes=routes)
    notifiers = {"console": ConsoleNotifier(first), "later": ConsoleNotifier(later)}
    report = Service(grown, store=Store(db_url), notifiers=notifiers).cycle(force=True)
    assert report.queued == 0 and later.getvalue() == ""

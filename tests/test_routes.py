"""Routes choose channels by rule, severity, tags and the rule's labels."""

from datetime import UTC, datetime

from monitor.config import RouteConfig
from monitor.models import AlertView
from monitor.notify.routes import channels_for


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

"""Routes: which channels an alert goes to, chosen by rule, severity, tags and labels."""

from __future__ import annotations

from monitor.config import RouteConfig
from monitor.models import AlertView


def route_matches(route: RouteConfig, alert: AlertView) -> bool:
    if route.rules and alert.rule not in route.rules:
        return False
    if route.severities and alert.severity not in route.severities:
        return False
    if route.tags and not set(route.tags) & set(alert.tags):
        return False
    return all(alert.labels.get(key) == value for key, value in route.labels.items())


def routes_for(routes: list[RouteConfig], alert: AlertView) -> list[RouteConfig]:
    """The routes an alert takes, in order: the first that matches ends the search unless it
    says ``continue: true``, as in Alertmanager."""
    chosen = []
    for route in routes:
        if route_matches(route, alert):
            chosen.append(route)
            if not route.continue_:
                break
    return chosen


def channels_for(routes: list[RouteConfig], alert: AlertView, kind: str) -> list[str]:
    """Channels for an alert; follow-ups ("update") go only where the route sends them."""
    chosen: list[str] = []
    for route in routes_for(routes, alert):
        if kind == "new" or route.updates != "none":
            chosen += [c for c in route.channels if c not in chosen]
    return chosen

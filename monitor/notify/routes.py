"""Routes: which channels an alert goes to, chosen by rule, severity and tags."""

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


def channels_for(routes: list[RouteConfig], alert: AlertView, kind: str) -> list[str]:
    """Channels for an alert, in route order; the first matching route ends the search
    unless it says ``continue: true``. Updates go only where the route asks for them."""
    chosen: list[str] = []
    for route in routes:
        if not route_matches(route, alert):
            continue
        if kind == "new" or route.updates == "each":
            chosen += [c for c in route.channels if c not in chosen]
        if not route.continue_:
            break
    return chosen

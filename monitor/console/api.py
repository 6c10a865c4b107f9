"""The JSON API: the pages' data for scripts, and verdicts from them.

``GET /api/stories`` takes the list page's filters; ``POST /api/verdicts`` takes
``{"story", "article", "rule", "verdict", "note"}`` as JSON with a matching ``Origin`` (or a
bearer token), see :mod:`monitor.console.auth`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from monitor.console import data
from monitor.console.actions import save_verdict
from monitor.console.http import Request, Response, json_response
from monitor.console.inputs import InputError, list_query, verdict_input
from monitor.util.dates import as_utc

if TYPE_CHECKING:
    from monitor.console.app import Console


def _time(value) -> str:
    return "" if value is None else as_utc(value).isoformat()


def _summary(s) -> dict[str, Any]:
    return {
        "id": s.id,
        "headline": s.headline,
        "alerts": [{"id": a.id, "rule": a.rule_id, "severity": a.severity} for a in s.alerts],
        "outlets": s.outlets,
        "first_report": _time(s.first_published),
        "last_report": _time(s.last_published),
        "last_change": _time(s.active),
        "deliveries": dict(s.deliveries),
        "verdicts": dict(s.verdicts),
    }


def _source(src: data.Source) -> dict[str, Any]:
    return {
        "article": src.citation,
        "outlet": src.outlet,
        "title": src.title,
        "url": src.url,
        "published": _time(src.published),
        "fetched": _time(src.fetched),
        "matches": [
            {
                "rule": m.rule,
                "rule_version": m.rule_version,
                "sentences": m.sentences,
                "verdict": m.verdict.verdict if m.verdict else None,
                "note": m.verdict.note if m.verdict else "",
            }
            for m in src.matches
        ],
    }


def error(status: int, text: str) -> Response:
    return json_response({"error": text}, status)


def stories(console: Console, request: Request, _: str) -> Response:
    try:
        query = list_query(request.param)
    except InputError as exc:
        return error(HTTPStatus.BAD_REQUEST, str(exc))
    with console.store.session() as session:
        page = data.story_page(session, query.story_filter(), query.page, console.page_size)
    summaries = [_summary(s) for s in page.stories]
    return json_response({"stories": summaries, "page": page.page, "more": page.more})


def story(console: Console, request: Request, story_id: str) -> Response:
    with console.store.session() as session:
        found = data.story_detail(session, story_id)
    if found is None:
        return error(HTTPStatus.NOT_FOUND, f"no story '{story_id}'")
    return json_response(
        {
            "id": found.id,
            "headline": found.headline,
            "first_report": _time(found.first_published),
            "last_report": _time(found.last_published),
            "alerts": [{"id": a, "rule": r, "severity": s} for r, s, a in found.rules],
            "sources": [_source(src) for src in found.sources],
            "deliveries": found.deliveries,
        }
    )


def post_verdict(console: Console, request: Request, _: str) -> Response:
    problem = console.guard.api_write_problem(request)
    if problem:
        return error(HTTPStatus.FORBIDDEN, problem)
    try:
        body = request.json()
        if not isinstance(body, dict):
            raise InputError("the body must be a JSON object")
        verdict = save_verdict(console.store, verdict_input(body), console.verdicts)
    except ValueError:
        return error(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
    except InputError as exc:
        return error(HTTPStatus.BAD_REQUEST, str(exc))
    saved = {"story": verdict.story_id, "article": verdict.citation, "rule": verdict.rule_id}
    saved |= {"verdict": verdict.verdict, "note": verdict.note}
    return json_response(saved, HTTPStatus.CREATED)

"""The HTML pages and the forms posted from them (post, then redirect back: a reload never
submits twice). The data comes from :mod:`monitor.console.data`, the checks on what analysts
send from :mod:`monitor.console.inputs`."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from monitor.console import data
from monitor.console.actions import SILENCE_PERIODS, save_verdict, silence_story
from monitor.console.http import Request, Response, html, redirect
from monitor.console.inputs import PERIODS, VERDICT_FILTERS, InputError, list_query, verdict_input
from monitor.detect.rules.model import SEVERITIES

if TYPE_CHECKING:
    from monitor.console.app import Console


def render(
    console: Console,
    request: Request,
    template: str,
    status: int = HTTPStatus.OK,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    token, set_cookie = console.guard.csrf(request)
    headers = dict(headers or {})
    if set_cookie:
        headers["Set-Cookie"] = set_cookie
    notice = {"saved": "Verdict saved.", "silenced": "Story silenced."}.get(request.param("done"))
    body = console.env.get_template(template).render(
        csrf=token,
        nav_rules=console.rule_ids() if console.guard.authenticated(request) else [],
        notice=notice,
        **context,
    )
    return html(body, status, headers)


def message(console: Console, request: Request, status: int, heading: str, text: str) -> Response:
    return render(console, request, "message.html", status, heading=heading, message=text)


def not_found(console: Console, request: Request, _: str) -> Response:
    return message(console, request, HTTPStatus.NOT_FOUND, "Not found", "No such page.")


def login_page(console: Console, request: Request, headers: dict[str, str]) -> Response:
    return render(
        console,
        request,
        "message.html",
        HTTPStatus.UNAUTHORIZED,
        headers,
        heading="Sign in",
        message="This console needs its token.",
        login=True,
        next=request.path,
    )


def story_list(console: Console, request: Request, _: str) -> Response:
    try:
        query = list_query(request.param)
    except InputError as exc:
        return message(console, request, HTTPStatus.BAD_REQUEST, "Bad filter", str(exc))
    with console.store.session() as session:
        page = data.story_page(session, query.story_filter(), query.page, console.page_size)
    return render(
        console,
        request,
        "list.html",
        page=page,
        f=query,
        severities=SEVERITIES,
        periods=PERIODS,
        verdict_choices=VERDICT_FILTERS,
        page_link=lambda n: "/?" + urlencode(query.params(n)),
    )


def story(console: Console, request: Request, story_id: str) -> Response:
    with console.store.session() as session:
        found = data.story_detail(session, story_id)
    if found is None:
        return not_found(console, request, story_id)
    return render(console, request, "story.html", story=found, silence_periods=SILENCE_PERIODS)


def rule(console: Console, request: Request, rule_id: str) -> Response:
    found = next((r for r in console.rules() if r.id == rule_id), None)
    if found is None:
        return not_found(console, request, rule_id)
    with console.store.session() as session:
        detail = data.rule_detail(session, found)
    return render(console, request, "rule.html", d=detail)


def _form(console: Console, request: Request) -> tuple[dict[str, str], Response | None]:
    form = request.form()
    problem = console.guard.form_problem(request, form.get("csrf", ""))
    if problem:
        return form, message(console, request, HTTPStatus.FORBIDDEN, "Refused", problem)
    return form, None


def post_verdict(console: Console, request: Request, story_id: str) -> Response:
    form, refused = _form(console, request)
    if refused:
        return refused
    try:
        given = verdict_input({**form, "story": story_id})
        verdict = save_verdict(console.store, given, console.verdicts)
    except InputError as exc:
        return message(console, request, HTTPStatus.BAD_REQUEST, "Verdict not saved", str(exc))
    where = f"/stories/{quote(story_id, safe='')}?done=saved#a-{verdict.article_id}"
    return redirect(where)


def post_silence(console: Console, request: Request, story_id: str) -> Response:
    form, refused = _form(console, request)
    if refused:
        return refused
    try:
        silence_story(console.store, story_id, form.get("for", ""), form.get("reason", ""))
    except InputError as exc:
        return message(console, request, HTTPStatus.BAD_REQUEST, "Not silenced", str(exc))
    return redirect(f"/stories/{quote(story_id, safe='')}?done=silenced")


def post_login(console: Console, request: Request, _: str) -> Response:
    if request.header("Origin") and not console.guard.same_origin(request):
        return message(console, request, HTTPStatus.FORBIDDEN, "Refused", "another site's form")
    form = request.form()
    cookie = console.guard.login(form.get("token", ""))
    if cookie is None:
        return login_page(console, request, {})
    target = form.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        target = "/"  # never an open redirect
    return redirect(target, {"Set-Cookie": cookie})

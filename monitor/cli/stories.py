"""``monitor stories``: a story's members and why each joined; why two reports are one event;
an analyst's merge or split when the matcher got it wrong.

An analyst who doubts a story reads here what the event matcher saw: the similarity each report
joined with and the words it shared with the story, and for any two reports their similarity,
the telling words they share and the vessels each names. ``merge`` and ``split`` correct it
(:mod:`monitor.service.regroup`), and ``show`` says who did, and when.
"""

from __future__ import annotations

import getpass
import json

import click

from monitor.cli.context import DB_OPTION, Context
from monitor.cli.regroup_text import came_with, edit_line, print_report, show_merged_away
from monitor.detect.events.vectors import cosine, shared_terms
from monitor.errors import StoreError
from monitor.service.regroup import Editor, merge_stories, split_story
from monitor.store import Store
from monitor.store.articles import article_summaries
from monitor.store.stories import find_story
from monitor.store.story_edits import merged_into, story_edits
from monitor.store.story_vectors import ArticleVector, article_vectors, story_members
from monitor.store.tables import ArticleRow


@click.group()
def stories() -> None:
    """Stories: their members, and why reports were joined."""


def _terms(shared: list[tuple[str, float]]) -> str:
    return ", ".join(term for term, _weight in shared) or "none"


def _row(article: ArticleRow | None, member: ArticleVector) -> dict:
    return {
        "article": member.article_id,
        "source": article.source if article else "",
        "title": article.title if article else "",
        "url": article.url if article else "",
        "dated": article.dated.isoformat() if article and article.dated else "",
        "similarity": member.similarity,
        "shared_terms": [term for term, _weight in member.shared],
        "vessels": list(member.vessels),
    }


@stories.command("show")
@click.argument("story_id")
@click.option("--json", "as_json", is_flag=True, help="The story as one JSON object.")
@DB_OPTION
@click.pass_obj
def stories_show(ctx: Context, story_id: str, as_json: bool, db: str | None) -> None:
    """A story's reports in the order they joined, and why each joined: the similarity to the
    story when it came, and the words it shared with it.

    \b
    Example:
        monitor stories show st-5e8eaeec4c
    """
    with ctx.session(db) as session:
        story = find_story(session, story_id)
        members = story_members(session, story_id)
        articles = article_summaries(session, [m.article_id for m in members])
        edits = story_edits(session, [story_id])
        gone = merged_into(session, story_id) if story is None else None
    if gone is not None:
        show_merged_away(story_id, gone, as_json)
        return
    if story is None:
        raise StoreError(f"no story {story_id!r} in the store (`monitor alerts list` shows them)")
    rows = [_row(articles.get(m.article_id), m) for m in members]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "story": story_id,
                    "headline": story.headline,
                    "members": rows,
                    "edits": [e.to_json() for e in edits],
                }
            )
        )
        return
    click.echo(f"{story_id}: {story.headline}")
    brought = came_with(story_id, edits)
    for member, row in zip(members, rows, strict=True):
        click.echo(f"  [{row['article']}] {row['source']}: {row['title']}  ({row['dated']})")
        if member.similarity is None:
            click.echo("      started the story")
        else:
            click.echo(
                f"      joined at similarity {member.similarity:.2f}; "
                f"shared: {_terms(member.shared)}"
            )
        if member.vessels:
            click.echo(f"      vessels: {', '.join(member.vessels)}")
        if member.article_id in brought:
            click.echo(f"      {brought[member.article_id]}")
    if not members:
        click.echo("  (no report of it was read by the event matcher: stored before it)")
    for edit in edits:
        click.echo(f"  {edit_line(story_id, edit)}")


@stories.command("explain")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.option("--json", "as_json", is_flag=True, help="The comparison as one JSON object.")
@DB_OPTION
@click.pass_obj
def stories_explain(ctx: Context, first: int, second: int, as_json: bool, db: str | None) -> None:
    """Why two stored reports are, or are not, one event: their similarity, the telling words
    they share, and the vessels each names (two reports naming different vessels are
    different events). FIRST and SECOND are article ids, as `stories show` lists them.

    \b
    Example:
        monitor stories explain 12 40
    """
    with ctx.session(db) as session:
        vectors = article_vectors(session, [first, second])
        articles = article_summaries(session, [first, second])
    missing = [n for n in (first, second) if n not in vectors]
    if missing:
        raise StoreError(
            f"no article {missing[0]} as the event matcher read it (an article id from "
            "`monitor stories show`; an article that matched no rule is in no story unless "
            "`story_scope: all`)"
        )
    a, b = vectors[first], vectors[second]
    found = {
        "similarity": round(cosine(a.vector, b.vector), 4),
        "shared_terms": [term for term, _weight in shared_terms(a.vector, b.vector)],
        "same_story": a.story_id == b.story_id,
        "articles": [_row(articles.get(v.article_id), v) for v in (a, b)],
    }
    if as_json:
        click.echo(json.dumps(found))
        return
    for row, vector in zip(found["articles"], (a, b), strict=True):
        click.echo(f"[{row['article']}] {row['source']}: {row['title']}  story {vector.story_id}")
        click.echo(f"    vessels: {', '.join(vector.vessels) or 'none named'}")
    click.echo(
        f"similarity {found['similarity']:.2f}; shared: {_terms(shared_terms(a.vector, b.vector))}"
    )
    click.echo("one story" if found["same_story"] else "two stories")


ANALYST_OPTION = click.option(
    "--analyst", default=None, help="Who made the edit, kept with it [default: the login name]."
)
NOTE_OPTION = click.option("--note", default="", help="Why, for the next analyst who wonders.")
DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Say what would move, and change nothing."
)


def _editor(ctx: Context, analyst: str | None, note: str) -> Editor:
    if analyst is None:
        try:
            analyst = getpass.getuser()
        except (KeyError, OSError):  # no login name in a bare container
            analyst = ""
    settings = ctx.settings
    return Editor(analyst, note, list(settings.routes), settings.delivery)


def _open(ctx: Context, db: str | None) -> Store:
    return Store(db or ctx.settings.database_url, create=False)


@stories.command("merge")
@click.argument("into")
@click.argument("other")
@ANALYST_OPTION
@NOTE_OPTION
@DRY_RUN_OPTION
@click.option("--json", "as_json", is_flag=True, help="What moved, as one JSON object.")
@DB_OPTION
@click.pass_obj
def stories_merge(
    ctx: Context,
    into: str,
    other: str,
    analyst: str | None,
    note: str,
    dry_run: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Merge story OTHER into story INTO: one event the matcher told as two.

    Every report of OTHER joins INTO, whose centroid is rebuilt from all of them, so a later
    report of the event joins INTO (in every running daemon too). For each rule, OTHER's
    alert joins INTO's alert (or becomes it), and channels get one follow-up with the sources
    that came from OTHER, never a new alert for what they were already sent. The headline is
    the earliest report's.

    \b
    Example:
        monitor stories merge st-5e8eaeec4c st-0a1b2c3d4e --note "same seizure, two outlets"
    """
    store = _open(ctx, db)
    try:
        report = merge_stories(store, into, other, _editor(ctx, analyst, note), dry_run)
    finally:
        store.close()
    print_report(report, as_json)


@stories.command("split")
@click.argument("story_id")
@click.argument("article", type=int)
@ANALYST_OPTION
@NOTE_OPTION
@DRY_RUN_OPTION
@click.option("--json", "as_json", is_flag=True, help="What moved, as one JSON object.")
@DB_OPTION
@click.pass_obj
def stories_split(
    ctx: Context,
    story_id: str,
    article: int,
    analyst: str | None,
    note: str,
    dry_run: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Split report ARTICLE out of story STORY_ID into a story of its own: another event.

    The story's centroid is rebuilt from the reports left; the article's citations leave the
    story's alerts and open the new story's alerts, whose first notice goes out as for any new
    event. ARTICLE is an article id, as `stories show` lists them.

    \b
    Example:
        monitor stories split st-5e8eaeec4c 40 --note "a second tanker, not the same transfer"
    """
    store = _open(ctx, db)
    try:
        report = split_story(store, story_id, article, _editor(ctx, analyst, note), dry_run)
    finally:
        store.close()
    print_report(report, as_json)

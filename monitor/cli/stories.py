"""``monitor stories``: a story's members and why each joined; why two reports are one event.

An analyst who doubts a story reads here what the event matcher saw: the similarity each report
joined with and the words it shared with the story, and for any two reports their similarity,
the telling words they share and the vessels each names.
"""

from __future__ import annotations

import json

import click

from monitor.cli.context import DB_OPTION, Context
from monitor.detect.events.vectors import cosine, shared_terms
from monitor.errors import StoreError
from monitor.store.articles import article_summaries
from monitor.store.stories import find_story
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
    if story is None:
        raise StoreError(f"no story {story_id!r} in the store (`monitor alerts list` shows them)")
    rows = [_row(articles.get(m.article_id), m) for m in members]
    if as_json:
        click.echo(json.dumps({"story": story_id, "headline": story.headline, "members": rows}))
        return
    click.echo(f"{story_id}: {story.headline}")
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
    if not members:
        click.echo("  (no report of it was read by the event matcher: stored before it)")


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
            "`monitor stories show`, stored since the event matcher came)"
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

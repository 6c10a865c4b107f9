"""Verdicts become rule tests: each judged citation's sentences become an example of its rule,
``match:`` when the analyst found it relevant, ``no_match:`` when not.

A "not relevant" example fails ``monitor rules test`` until the rule is changed not to match
it: that failing test is the signal to the rule's author. Writing edits the rule file's text
in place (comments and layout kept) and reloads it, and puts the file back if it no longer
loads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from monitor.detect.rules import Rule
from monitor.detect.rules.parse import load_rules
from monitor.errors import RuleError
from monitor.store.tables import ArticleRow
from monitor.store.verdicts import RELEVANT, VerdictRow

KINDS = ("match", "no_match")


@dataclass(slots=True)
class Proposal:
    """Examples a rule's verdicts propose that it does not have yet."""

    rule: str
    match: list[str] = field(default_factory=list)
    no_match: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.match or self.no_match)

    def items(self) -> list[tuple[str, list[str]]]:
        return [(kind, getattr(self, kind)) for kind in KINDS if getattr(self, kind)]


def example_text(sentences: Iterable[str]) -> str:
    """A citation's sentences as one example: the rule matched them together."""
    return " ".join(" ".join(s.split()) for s in sentences if s.strip())


def proposals(rules: Mapping[str, Rule], verdicts: Iterable[VerdictRow]) -> dict[str, Proposal]:
    """New examples per rule, in the order the verdicts were given; a text the rule already
    has as an example (of either kind) is left out, and so is a rule that no longer exists."""
    found: dict[str, Proposal] = {}
    for row in verdicts:
        rule = rules.get(row.rule_id)
        text = example_text(row.sentences or [])
        if rule is None or not text:
            continue
        if text in rule.examples_match or text in rule.examples_no_match:
            continue
        proposal = found.setdefault(rule.id, Proposal(rule.id))
        kind = proposal.match if row.verdict == RELEVANT else proposal.no_match
        if text not in proposal.match and text not in proposal.no_match:
            kind.append(text)
    return {rule_id: p for rule_id, p in found.items() if p}


def as_corpus(judged: Iterable[tuple[VerdictRow, ArticleRow | None]]) -> list[dict[str, object]]:
    """Each verdict as a labelled report for ``monitor rules train`` and ``rules evaluate``:
    the article it judged, labelled with the rule when found relevant and without it when not,
    and ``judged`` naming that one rule, since the verdict says nothing of the others. A pruned
    article is stood in for by the sentences the verdict kept: the gate scores those too."""
    records: list[dict[str, object]] = []
    for row, article in judged:
        text = article.text if article is not None else example_text(row.sentences or [])
        if not text.strip():
            continue
        records.append(
            {
                "id": f"verdict-{row.id}",
                "title": article.title if article is not None else "",
                "text": text,
                "labels": [row.rule_id] if row.verdict == RELEVANT else [],
                "judged": [row.rule_id],
                "story": row.story_id,
                "split": "verdicts",
                "url": article.url if article is not None else "",
                "source": article.source if article is not None else "",
                "note": row.note,
            }
        )
    return records


def as_yaml(found: Iterable[Proposal]) -> str:
    """The proposals as YAML: one mapping per rule, each with the examples block to add."""
    data = {p.rule: {"examples": dict(p.items())} for p in found}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100) if data else ""


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the last line of the block opened at ``start`` (lines indented more
    than ``indent``, blank lines and comments inside it)."""
    end = start + 1
    last = start
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if len(line) - len(line.lstrip()) <= indent:
                break
            last = end
        end += 1
    return last + 1


def _find_key(lines: list[str], key: str, start: int, end: int, indent: int) -> int | None:
    pattern = re.compile(rf"^ {{{indent}}}{key}:\s*(#.*)?$")
    return next((i for i in range(start, end) if pattern.match(lines[i])), None)


def _insert_examples(text: str, proposal: Proposal) -> str:
    lines = text.splitlines()
    if any(line.strip() == "---" for line in lines[1:]):
        raise RuleError("a file of several rules: add the examples by hand")
    top = _find_key(lines, "examples", 0, len(lines), 0)
    if top is None:
        if any(line.startswith("examples:") for line in lines):
            raise RuleError("'examples:' is not in block style: add the examples by hand")
        lines += ["examples:"]
        top = len(lines) - 1
    end = _block_end(lines, top, 0)
    for kind, texts in proposal.items():
        items = [f"    - {json.dumps(t, ensure_ascii=False)}" for t in texts]
        at = _find_key(lines, kind, top + 1, end, 2)
        if at is None:
            if any(line.startswith(f"  {kind}:") for line in lines[top + 1 : end]):
                raise RuleError(f"'examples.{kind}' is not in block style: add them by hand")
            lines[end:end] = [f"  {kind}:", *items]
            end += 1 + len(items)
            continue
        after = _block_end(lines, at, 2)
        lines[after:after] = items
        end += len(items)
    return "\n".join(lines) + "\n"


def write_examples(rule: Rule, proposal: Proposal, rules_dir: Path) -> Path:
    """Add the proposal's examples to the rule's file; the file is put back if the rules no
    longer load, or the rule did not gain them."""
    path = Path(rule.pos.file)
    before = path.read_text(encoding="utf-8")
    path.write_text(_insert_examples(before, proposal), encoding="utf-8")
    source = load_rules(rules_dir)
    after = next((r for r in source.rules if r.id == rule.id), None)
    gained = after is not None and all(
        text in getattr(after, f"examples_{kind}")
        for kind, texts in proposal.items()
        for text in texts
    )
    if source.problems or not gained:
        path.write_text(before, encoding="utf-8")
        why = "; ".join(str(p) for p in source.problems) or "the examples did not load"
        raise RuleError(f"{path}: examples not written, the file was put back: {why}")
    return path

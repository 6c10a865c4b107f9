"""YAML rule files to :mod:`monitor.detect.rules.model` objects, reporting every problem found.

The parser never stops at the first mistake: an author who runs ``monitor rules validate`` gets
the whole list, each as ``file:line:col: message``, so one edit-validate round fixes them all.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any as AnyType

from monitor.detect.rules.model import (
    DEFAULT_FIELDS,
    FIELDS,
    SEVERITIES,
    All,
    Any,
    AtLeast,
    Clause,
    Near,
    NoneOf,
    Phrase,
    Problem,
    Regex,
    Rule,
    SameSentence,
    Term,
    TermList,
)
from monitor.errors import RuleError
from monitor.util.text import phrase_tokens
from monitor.util.yamlpos import Pos, PosDict, PosList, YamlSyntaxError, load_all, pos_of

RULE_KEYS = (
    "id", "title", "severity", "tags", "description", "uses", "terms", "match", "examples",
    "labels", "enabled", "references",
)  # fmt: skip
LEXICON_KEYS = ("terms", "description", "references")
OPERATORS = ("all", "any", "none", "at_least", "near", "same_sentence", "regex", "term", "phrase")
MODIFIERS = {"within": "near", "of": "at_least", "in": None}
DEFAULT_NEAR = 10
LEXICON_DIR = "lexicon"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def did_you_mean(word: str, choices: AnyType) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class RuleSetSource:
    """Everything found under one rules folder: rules, problems, and the files read."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


class _Context:
    """Per-rule parsing state: the term lists in scope and the problems so far."""

    def __init__(self, problems: list[Problem], lists: dict[str, TermList]) -> None:
        self.problems = problems
        self.lists = lists
        self.anonymous = 0
        self.rule_id = ""

    def problem(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(pos, message))


def parse_phrases(
    value: AnyType, pos: Pos, name: str, problems: list[Problem]
) -> tuple[Phrase, ...]:
    if isinstance(value, str):
        value, positions = [value], [pos]
    elif isinstance(value, list):
        positions = value.item_pos if isinstance(value, PosList) else [pos] * len(value)
    else:
        problems.append(Problem(pos, f"term list '{name}' must be a list of phrases"))
        return ()
    if not value:
        problems.append(Problem(pos, f"term list '{name}' is empty"))
        return ()
    phrases = []
    for item, item_pos in zip(value, positions, strict=False):
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            problems.append(Problem(item_pos, f"a phrase in '{name}' must be text, not {item!r}"))
            continue
        text = str(item).strip()
        prefix = text.endswith("*")
        core = text[:-1] if prefix else text
        if "*" in core:
            problems.append(
                Problem(item_pos, f"phrase '{text}': a wildcard '*' may only end a phrase")
            )
            continue
        tokens = tuple(phrase_tokens(core))
        if not tokens:
            problems.append(Problem(item_pos, f"phrase '{text}' has no letters or digits"))
            continue
        phrases.append(Phrase(text=text, tokens=tokens, prefix=prefix))
    return tuple(phrases)


def _parse_term_lists(
    terms: AnyType, pos: Pos, key_prefix: str, problems: list[Problem]
) -> dict[str, TermList]:
    if not isinstance(terms, dict):
        problems.append(Problem(pos, "'terms' must be a mapping of name: [phrases]"))
        return {}
    out = {}
    for name, value in terms.items():
        name_pos = pos_of(terms, name, fallback=pos)
        value_pos = terms.value_pos.get(name, name_pos) if isinstance(terms, PosDict) else pos
        phrases = parse_phrases(value, value_pos, str(name), problems)
        if phrases:
            out[str(name)] = TermList(f"{key_prefix}#{name}", str(name), phrases, name_pos)
    return out


class Loader:
    """Reads a rules folder: lexicon files on demand (``uses:``), rule files in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self._lexicons: dict[Path, dict[str, TermList] | None] = {}
        self.files: list[Path] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def lexicon(self, ref: str, pos: Pos, rule_file: Path) -> dict[str, TermList] | None:
        candidates = [self.root / ref, rule_file.parent / ref]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            self.problems.append(Problem(pos, f"'uses': no lexicon file '{ref}' under {self.root}"))
            return None
        path = path.resolve()
        if path not in self._lexicons:
            self._lexicons[path] = self._read_lexicon(path, ref)
        return self._lexicons[path]

    def _read_lexicon(self, path: Path, ref: str) -> dict[str, TermList] | None:
        self.files.append(path)
        try:
            docs = load_all(path, self.display(path))
        except YamlSyntaxError as exc:
            self.problems.append(Problem(exc.pos, exc.message))
            return None
        data = docs[0] if docs else None
        top = Pos(self.display(path), 1, 1)
        if not isinstance(data, dict):
            self.problems.append(Problem(top, "a lexicon file must be a mapping with 'terms:'"))
            return None
        for key in data:
            if key not in LEXICON_KEYS:
                self.problems.append(
                    Problem(
                        pos_of(data, key, fallback=top),
                        f"unknown key '{key}' in lexicon{did_you_mean(key, LEXICON_KEYS)}",
                    )
                )
        if "terms" not in data:
            self.problems.append(Problem(top, "lexicon file has no 'terms:'"))
            return None
        terms_pos = data.value_pos["terms"] if isinstance(data, PosDict) else top
        return _parse_term_lists(data["terms"], terms_pos, ref, self.problems)

    def rule_files(self, paths: list[Path]) -> list[Path]:
        found: list[Path] = []
        for path in paths:
            if path.is_dir():
                for candidate in sorted(path.rglob("*.y*ml")):
                    rel = candidate.relative_to(path)
                    if rel.parts[0] != LEXICON_DIR and candidate.suffix in (".yaml", ".yml"):
                        found.append(candidate)
            else:
                found.append(path)
        return found

    def load(self, paths: list[Path]) -> RuleSetSource:
        rules: list[Rule] = []
        seen: dict[str, Pos] = {}
        for path in self.rule_files(paths):
            self.files.append(path.resolve())
            display = self.display(path)
            if not path.exists():
                self.problems.append(Problem(Pos(display, 1, 1), "no such file"))
                continue
            try:
                docs = load_all(path, display)
            except YamlSyntaxError as exc:
                self.problems.append(Problem(exc.pos, exc.message))
                continue
            for doc in docs:
                if doc is None:
                    continue
                rule = self._rule(doc, path, Pos(display, 1, 1))
                raw_id = doc.get("id") if isinstance(doc, dict) else None
                if raw_id is not None:
                    where = pos_of(doc, "id", fallback=Pos(display, 1, 1))
                    if str(raw_id) in seen:
                        self.problems.append(
                            Problem(
                                where,
                                f"duplicate rule id '{raw_id}' (first at {seen[str(raw_id)]})",
                            )
                        )
                        continue
                    seen[str(raw_id)] = where
                if rule is not None:
                    rules.append(rule)
        return RuleSetSource(rules=rules, problems=self.problems, files=self.files)

    # --- one rule ----------------------------------------------------------------------------

    def _rule(self, data: AnyType, path: Path, top: Pos) -> Rule | None:
        if not isinstance(data, dict):
            self.problems.append(
                Problem(top, "a rule file must be a mapping with 'id:' and 'match:'")
            )
            return None
        start = len(self.problems)
        where = pos_of(data, fallback=top)

        def key_pos(key: str) -> Pos:
            return pos_of(data, key, fallback=where)

        def value_pos(key: str) -> Pos:
            return data.value_pos.get(key, where) if isinstance(data, PosDict) else where

        for key, dup_pos in getattr(data, "duplicates", []):
            self.problems.append(Problem(dup_pos, f"key '{key}' appears twice"))
        for key in data:
            if key not in RULE_KEYS:
                self.problems.append(
                    Problem(key_pos(key), f"unknown key '{key}'{did_you_mean(key, RULE_KEYS)}")
                )
        for key in ("id", "title", "match"):
            if key not in data:
                self.problems.append(Problem(where, f"missing required key '{key}'"))
        rule_id = str(data.get("id", ""))
        if "id" in data and not _ID.match(rule_id):
            self.problems.append(
                Problem(
                    value_pos("id"),
                    f"rule id '{rule_id}' must be lower-case letters, digits, '.', '_' or '-'",
                )
            )
        severity = str(data.get("severity", "medium")).lower()
        if severity not in SEVERITIES:
            self.problems.append(
                Problem(
                    value_pos("severity"),
                    f"severity '{severity}' is not one of "
                    f"{', '.join(SEVERITIES)}{did_you_mean(severity, SEVERITIES)}",
                )
            )
        lists: dict[str, TermList] = {}
        uses = data.get("uses", [])
        if isinstance(uses, str):
            uses = [uses]
        if not isinstance(uses, list):
            self.problems.append(
                Problem(value_pos("uses"), "'uses' must be a list of lexicon files")
            )
            uses = []
        use_pos = uses.item_pos if isinstance(uses, PosList) else [value_pos("uses")] * len(uses)
        for ref, ref_pos in zip(uses, use_pos, strict=False):
            lexicon = self.lexicon(str(ref), ref_pos, path)
            if lexicon:
                lists.update(lexicon)
        if "terms" in data:
            lists.update(
                _parse_term_lists(
                    data["terms"], value_pos("terms"), f"rule:{rule_id}", self.problems
                )
            )
        ctx = _Context(self.problems, lists)
        ctx.rule_id = rule_id
        clause = None
        if "match" in data:
            clause = self._clause(data["match"], value_pos("match"), DEFAULT_FIELDS, ctx)
        examples_match, examples_no_match = self._examples(
            data.get("examples"), value_pos("examples")
        )
        tags = data.get("tags", [])
        if not isinstance(tags, list):
            self.problems.append(Problem(value_pos("tags"), "'tags' must be a list"))
            tags = []
        labels = data.get("labels", {})
        if not isinstance(labels, dict):
            self.problems.append(Problem(value_pos("labels"), "'labels' must be a mapping"))
            labels = {}
        if len(self.problems) > start or clause is None:
            return None
        used = _used_lists(clause, lists)
        return Rule(
            id=rule_id,
            title=str(data["title"]),
            severity=severity,
            match=clause,
            pos=where,
            version=_version(data, used),
            tags=tuple(str(t) for t in tags),
            description=str(data.get("description", "")).strip(),
            labels={str(k): str(v) for k, v in labels.items()},
            examples_match=examples_match,
            examples_no_match=examples_no_match,
            term_lists=tuple(used),
            enabled=bool(data.get("enabled", True)),
        )

    def _examples(self, value: AnyType, pos: Pos) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if value is None:
            return (), ()
        if not isinstance(value, dict):
            self.problems.append(Problem(pos, "'examples' must have 'match:' and/or 'no_match:'"))
            return (), ()
        out: dict[str, tuple[str, ...]] = {"match": (), "no_match": ()}
        for key, items in value.items():
            key_pos = pos_of(value, key, fallback=pos)
            if key not in out:
                self.problems.append(
                    Problem(key_pos, f"unknown key '{key}' in examples{did_you_mean(key, out)}")
                )
                continue
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.problems.append(Problem(key_pos, f"examples '{key}' must be a list of texts"))
                continue
            out[key] = tuple(items)
        return out["match"], out["no_match"]

    def _term(self, name: AnyType, pos: Pos, fields: frozenset[str], ctx: _Context) -> Term | None:
        if not isinstance(name, str):
            ctx.problem(pos, f"expected the name of a term list, got {name!r}")
            return None
        if name not in ctx.lists:
            if not ctx.lists:
                hint = " (no term lists are defined: add 'terms:' or 'uses:')"
            else:
                hint = did_you_mean(name, ctx.lists)
            ctx.problem(pos, f"unknown term list '{name}'{hint}")
            return None
        return Term(ctx.lists[name].key, name, fields)

    def _clause_list(
        self, value: AnyType, pos: Pos, op: str, fields: frozenset[str], ctx: _Context
    ) -> tuple[Clause, ...] | None:
        if isinstance(value, str | dict):
            value = PosList([value])
            value.pos, value.item_pos = pos, [pos]
        if not isinstance(value, list) or not value:
            ctx.problem(pos, f"'{op}' needs a non-empty list of clauses")
            return None
        positions = value.item_pos if isinstance(value, PosList) else [pos] * len(value)
        out = [
            self._clause(item, p, fields, ctx) for item, p in zip(value, positions, strict=False)
        ]
        if any(c is None for c in out):
            return None
        return tuple(out)  # type: ignore[arg-type]

    def _clause(
        self, value: AnyType, pos: Pos, fields: frozenset[str], ctx: _Context
    ) -> Clause | None:
        if isinstance(value, str):
            return self._term(value, pos, fields, ctx)
        if isinstance(value, list):
            children = self._clause_list(value, pos, "all", fields, ctx)
            return All(children) if children else None
        if not isinstance(value, dict):
            ctx.problem(pos, f"expected a term list name or a clause mapping, got {value!r}")
            return None
        keys = list(value)
        for key in keys:
            if key not in OPERATORS and key not in MODIFIERS:
                choices = OPERATORS + tuple(MODIFIERS)
                ctx.problem(
                    pos_of(value, key, fallback=pos),
                    f"unknown clause '{key}'{did_you_mean(key, choices)}",
                )
                return None
        for modifier, needs in MODIFIERS.items():
            if needs and modifier in value and needs not in value:
                ctx.problem(
                    pos_of(value, modifier, fallback=pos), f"'{modifier}' goes with '{needs}'"
                )
                return None
        if "in" in value:
            fields = self._fields(value["in"], pos_of(value, "in", fallback=pos), ctx)
            if fields is None:
                return None
        parts: list[Clause] = []
        for key in keys:
            if key in MODIFIERS:
                continue
            vpos = value.value_pos.get(key, pos) if isinstance(value, PosDict) else pos
            part = self._operator(key, value, vpos, fields, ctx)
            if part is None:
                return None
            parts.append(part)
        if not parts:
            ctx.problem(pos, f"a clause needs one of: {', '.join(OPERATORS)}")
            return None
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _fields(self, value: AnyType, pos: Pos, ctx: _Context) -> frozenset[str] | None:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            ctx.problem(pos, f"'in' takes a field or a list of fields: {', '.join(FIELDS)}")
            return None
        for name in names:
            if name not in FIELDS:
                ctx.problem(
                    pos,
                    f"unknown field '{name}'{did_you_mean(name, FIELDS)}; "
                    f"fields are {', '.join(FIELDS)}",
                )
                return None
        return frozenset(names)

    def _operator(
        self, key: str, data: dict, pos: Pos, fields: frozenset[str], ctx: _Context
    ) -> Clause | None:
        value = data[key]
        if key in ("all", "any", "none"):
            children = self._clause_list(value, pos, key, fields, ctx)
            if children is None:
                return None
            return {"all": All, "any": Any, "none": NoneOf}[key](children)
        if key == "at_least":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                ctx.problem(pos, f"'at_least' takes a whole number of at least 1, got {value!r}")
                return None
            if "of" not in data:
                ctx.problem(pos, "'at_least' needs 'of:' with the list of clauses to count")
                return None
            of_pos = data.value_pos.get("of", pos) if isinstance(data, PosDict) else pos
            children = self._clause_list(data["of"], of_pos, "of", fields, ctx)
            if children is None:
                return None
            if value > len(children):
                ctx.problem(pos, f"'at_least: {value}' can never hold with {len(children)} clauses")
                return None
            return AtLeast(value, children)
        if key == "near":
            if not isinstance(value, list) or len(value) != 2:
                got = len(value) if isinstance(value, list) else "one"
                ctx.problem(pos, f"'near' needs two term lists, one each side; got {got}")
                return None
            positions = value.item_pos if isinstance(value, PosList) else [pos, pos]
            left = self._term(value[0], positions[0], fields, ctx)
            right = self._term(value[1], positions[1], fields, ctx)
            within = data.get("within", DEFAULT_NEAR)
            if not isinstance(within, int) or isinstance(within, bool) or within < 0:
                wpos = pos_of(data, "within", fallback=pos)
                ctx.problem(wpos, f"'within' takes a number of words, got {within!r}")
                return None
            if left is None or right is None:
                return None
            return Near(left, right, within)
        if key == "same_sentence":
            if not isinstance(value, list) or len(value) < 2:
                ctx.problem(pos, "'same_sentence' needs two or more term lists")
                return None
            positions = value.item_pos if isinstance(value, PosList) else [pos] * len(value)
            terms = [self._term(v, p, fields, ctx) for v, p in zip(value, positions, strict=False)]
            if any(t is None for t in terms):
                return None
            return SameSentence(tuple(terms))  # type: ignore[arg-type]
        if key == "regex":
            if not isinstance(value, str) or not value:
                ctx.problem(pos, "'regex' takes one pattern as text")
                return None
            try:
                pattern = re.compile(value, re.IGNORECASE)
            except re.error as exc:
                at = f" at character {exc.pos + 1} of the pattern" if exc.pos is not None else ""
                ctx.problem(pos, f"invalid regex: {exc.msg}{at}")
                return None
            return Regex(pattern, fields)
        if key == "term":
            return self._term(value, pos, fields, ctx)
        # phrase: an anonymous term list written in place
        ctx.anonymous += 1
        name = f"phrase-{ctx.anonymous}"
        phrases = parse_phrases(value, pos, name, ctx.problems)
        if not phrases:
            return None
        term_list = TermList(f"rule:{ctx.rule_id}#{name}", name, phrases, pos)
        ctx.lists[name] = term_list
        return Term(term_list.key, name, fields)


def _used_lists(clause: Clause, lists: dict[str, TermList]) -> list[TermList]:
    keys: dict[str, None] = {}

    def walk(node: Clause) -> None:
        if isinstance(node, Term):
            keys[node.list_key] = None
        elif isinstance(node, Near):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, SameSentence):
            for term in node.terms:
                walk(term)
        elif isinstance(node, All | Any | NoneOf | AtLeast):
            for child in node.children:
                walk(child)

    walk(clause)
    by_key = {tl.key: tl for tl in lists.values()}
    return [by_key[k] for k in keys]


def _version(data: dict, used: list[TermList]) -> str:
    """A short hash of what decides the rule's behaviour: its own YAML and its term lists."""
    payload = {
        "rule": {k: v for k, v in data.items() if k != "examples"},
        "terms": {tl.key: [p.text for p in tl.phrases] for tl in used},
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def load_rules(paths: list[Path] | Path, root: Path | None = None) -> RuleSetSource:
    """Parse rule files (folders are searched, ``lexicon/`` excepted) into rules and problems."""
    if isinstance(paths, Path):
        paths = [paths]
    if root is None:
        first = paths[0] if paths else Path("rules")
        root = first if first.is_dir() else first.parent
    return Loader(root).load(paths)


class RulesError(RuleError):
    """The rule set has problems; the message lists every one as file:line:col."""


def valid_rules(path: Path) -> list[Rule]:
    """The rules under ``path``, or :class:`RulesError` listing every problem."""
    source = load_rules(path)
    if source.problems:
        listing = "\n".join(f"  {p}" for p in source.problems)
        raise RulesError(f"{len(source.problems)} problem(s) in the rules:\n{listing}")
    return source.rules

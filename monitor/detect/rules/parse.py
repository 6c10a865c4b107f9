"""Rule files on disk to :class:`~monitor.detect.rules.model.Rule` objects, with every problem.

The loader never stops at the first mistake: an author who runs ``monitor rules validate`` gets
the whole list, each as ``file:line:col: message``, so one edit-validate round fixes them all.
For each rule it reads the lexicon files named by ``uses:`` (their term lists are in scope),
validates the document against :mod:`monitor.detect.rules.format`, and compiles it only if
nothing was wrong. What no single document can say is checked here: a lexicon file that does
not exist, a key written twice, a rule id used twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.detect.rules.compile import compile_rule, term_lists
from monitor.detect.rules.format import LexiconDoc, RuleDoc
from monitor.detect.rules.format_terms import scope
from monitor.detect.rules.gate import GateModel, load_model
from monitor.detect.rules.model import Problem, Rule, TermList
from monitor.detect.rules.wording import did_you_mean, problems_from
from monitor.errors import RuleError
from monitor.util.yamlpos import Pos, YamlSyntaxError, load_all, pos_at, pos_of

__all__ = [
    "Loader", "RuleSetSource", "RulesError", "did_you_mean", "load_rules", "valid_rules",
]  # fmt: skip

LEXICON_DIR = "lexicon"


@dataclass
class RuleSetSource:
    """Everything found under one rules folder: rules, problems, and the files read."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Lexicon:
    """A lexicon file as the rules that use it see it."""

    names: tuple[str, ...]  # in scope for the rules that use it, even if the file has problems
    lists: dict[str, TermList] | None  # None when the file has problems


def _term_names(data: Any) -> list[str]:
    """The names under ``terms:``, read before validation to put them in scope: a list with a
    mistake is then reported once, not again wherever its name is used."""
    terms = data.get("terms") if isinstance(data, dict) else None
    return [name for name in terms if isinstance(name, str)] if isinstance(terms, dict) else []


def _uses(data: Any) -> list[tuple[str, tuple[str | int, ...]]]:
    """The lexicon files a rule names, with where each is named; the model checks the rest."""
    uses = data.get("uses") if isinstance(data, dict) else None
    if isinstance(uses, str):
        return [(uses, ("uses",))]
    if not isinstance(uses, list):
        return []
    return [(ref, ("uses", i)) for i, ref in enumerate(uses) if isinstance(ref, str)]


def _in_reading_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.pos.line, p.pos.col))


class Loader:
    """Reads a rules folder: lexicon files on demand (``uses:``), rule files in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self._lexicons: dict[Path, Lexicon] = {}
        self._models: dict[Path, GateModel | None] = {}
        self.files: list[Path] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def named_file(self, ref: str, pos: Pos, rule_file: Path, what: str) -> Path | None:
        """A file a rule names: under the rules folder, else beside the rule; None after
        recording, at ``pos``, that there is no such ``what``."""
        candidates = [self.root / ref, rule_file.parent / ref]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            self.problems.append(Problem(pos, f"{what} '{ref}' under {self.root}"))
            return None
        return path.resolve()

    def lexicon(self, ref: str, pos: Pos, rule_file: Path) -> Lexicon | None:
        path = self.named_file(ref, pos, rule_file, "'uses': no lexicon file")
        if path is None:
            return None
        if path not in self._lexicons:
            self._lexicons[path] = self._read_lexicon(path, ref)
        return self._lexicons[path]

    def _read_lexicon(self, path: Path, ref: str) -> Lexicon:
        self.files.append(path)
        top = Pos(self.display(path), 1, 1)
        try:
            docs = load_all(path, top.file)
        except YamlSyntaxError as exc:
            self.problems.append(Problem(exc.pos, exc.message))
            return Lexicon((), None)
        data = docs[0] if docs else None
        try:
            doc = LexiconDoc.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_in_reading_order(problems_from(exc, data, top)))
            return Lexicon(tuple(_term_names(data)), None)
        return Lexicon(tuple(doc.terms), term_lists(doc.terms, data["terms"], ref, top))

    def gate_model(self, ref: str, pos: Pos, rule_file: Path) -> GateModel | None:
        """The model a rule's ``gate:`` names, read once however many rules name it."""
        path = self.named_file(ref, pos, rule_file, "gate: no model file")
        if path is None:
            return None
        if path not in self._models:
            self.files.append(path)
            try:
                self._models[path] = load_model(path)
            except RuleError as exc:
                self._models[path] = None
                self.problems.append(Problem(pos, f"gate: model '{ref}': {exc}"))
        return self._models[path]

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

    def _rule(self, data: Any, path: Path, top: Pos) -> Rule | None:
        """One rule document, or None after recording what is wrong with it."""
        problems = [
            Problem(dup_pos, f"key '{key}' appears twice")
            for key, dup_pos in getattr(data, "duplicates", [])
        ]
        names: list[str] = []
        lexicon_lists: dict[str, TermList] = {}
        lexicons_usable = True
        for ref, loc in _uses(data):
            lexicon = self.lexicon(ref, pos_at(data, loc, fallback=top), path)
            lexicons_usable = lexicons_usable and lexicon is not None and lexicon.lists is not None
            if lexicon is not None:
                names.extend(lexicon.names)
                lexicon_lists.update(lexicon.lists or {})
        names.extend(_term_names(data))
        doc = None
        try:
            doc = RuleDoc.model_validate(data, context=scope(names))
        except ValidationError as exc:
            problems.extend(problems_from(exc, data, top))
        self.problems.extend(_in_reading_order(problems))
        if doc is None or problems or not lexicons_usable:
            return None
        model = None
        if doc.gate is not None:
            where = pos_at(data, ("gate", "model"), fallback=top)
            model = self.gate_model(doc.gate.model, where, path)
            if model is None:
                return None
        return compile_rule(doc, data, lexicon_lists, top, model)


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

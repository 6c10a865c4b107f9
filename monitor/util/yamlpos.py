"""YAML loading that remembers where every key and item came from.

Rule authors fix what they can find: every error the rule compiler reports names
``file:line:col``, so the loaded data must carry the position of each mapping key, each value
and each list item. PyYAML's safe loader is used as it is; only the container types change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import MonitorError


@dataclass(frozen=True, slots=True)
class Pos:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class PosDict(dict):
    """A mapping with the position of itself, of each key and of each value."""

    pos: Pos
    key_pos: dict[Any, Pos]
    value_pos: dict[Any, Pos]
    duplicates: list[tuple[Any, Pos]]


class PosList(list):
    """A sequence with the position of itself and of each item."""

    pos: Pos
    item_pos: list[Pos]


def _pos(loader: yaml.SafeLoader, node: yaml.Node) -> Pos:
    mark = node.start_mark
    return Pos(loader.name, mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode):
    data = PosDict()
    data.pos = _pos(loader, node)
    data.key_pos, data.value_pos, data.duplicates = {}, {}, []
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)
        if key in data:
            data.duplicates.append((key, _pos(loader, key_node)))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_pos[key] = _pos(loader, key_node)
        data.value_pos[key] = _pos(loader, value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode):
    data = PosList()
    data.pos = _pos(loader, node)
    data.item_pos = [_pos(loader, item) for item in node.value]
    yield data
    data.extend(loader.construct_object(item, deep=True) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class YamlSyntaxError(MonitorError, ValueError):
    """A file that is not YAML at all, with the position PyYAML found the problem at. Its
    callers (the config, the rule loader) report it in their own family, with the file."""

    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.message = message


def load_all(path: Path, display: str | None = None) -> list[Any]:
    """Every document of a YAML file, with positions; raises :class:`YamlSyntaxError`."""
    name = display or str(path)
    text = path.read_text(encoding="utf-8")
    loader = _Loader(text)
    loader.name = name
    try:
        docs = []
        while loader.check_data():
            docs.append(loader.get_data())
        return docs
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(name, mark.line + 1, mark.column + 1) if mark else Pos(name, 1, 1)
        raise YamlSyntaxError(pos, f"invalid YAML: {exc.problem or exc}") from None
    finally:
        loader.dispose()


def pos_of(container: Any, key: Any = None, *, fallback: Pos) -> Pos:
    """Best position for a key or item of a loaded container, else the fallback."""
    if isinstance(container, PosDict):
        if key is None:
            return container.pos
        return container.key_pos.get(key, container.pos)
    if isinstance(container, PosList):
        if key is None:
            return container.pos
        if isinstance(key, int) and 0 <= key < len(container.item_pos):
            return container.item_pos[key]
        return container.pos
    return fallback


def pos_at(root: Any, path: tuple[Any, ...], *, key: bool = False, fallback: Pos) -> Pos:
    """Position of the node a path leads to, such as the ``loc`` of a pydantic error.

    Steps that name no key or item of the node reached are skipped (validators add such
    labels, e.g. the tag of a union member), and a path that leads nowhere stops at the deepest
    node found: a missing key is reported at its mapping. With ``key``, the position is that of
    the last mapping key on the way, for messages about a key rather than its value.
    """
    node, pos, key_pos = root, pos_of(root, fallback=fallback), None
    for step in path:
        if isinstance(node, PosDict) and not isinstance(step, bool) and step in node:
            key_pos, pos = node.key_pos[step], node.value_pos[step]
            node = node[step]
        elif isinstance(node, PosList) and isinstance(step, int) and 0 <= step < len(node):
            pos, node = node.item_pos[step], node[step]
    return (key_pos or pos) if key else pos

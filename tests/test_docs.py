"""The README is the reference: every command and every metric that exists is in it."""

from __future__ import annotations

from typing import get_args

import click
from pydantic import BaseModel

from monitor.cli import cli
from monitor.config import Settings
from monitor.service.metrics import Metrics
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def commands(command: click.Command, path: list[str]) -> list[str]:
    if isinstance(command, click.Group):
        return [
            name
            for sub, child in sorted(command.commands.items())
            for name in commands(child, [*path, sub])
        ]
    return [" ".join(path)]


def test_every_command_is_in_the_readme():
    missing = [name for name in commands(cli, ["monitor"]) if f"`{name}" not in README]
    assert not missing, f"commands without a line in README.md: {missing}"


def test_every_metric_is_in_the_readme():
    names = sorted(family.name for family in Metrics().registry.collect())
    assert len(names) > 20
    missing = [name for name in names if f"`{name}" not in README]
    assert not missing, f"metrics without a line in README.md: {missing}"


def config_rows() -> dict[str, str]:
    """The README's configuration table: each top-level key with the text of its row(s)."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            key = line.split("`", 2)[1]
            rows[key] = rows.get(key, "") + line
    return rows


def model_of(annotation: object) -> type[BaseModel] | None:
    """The settings model a field holds: itself, a list's items or a mapping's values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


def test_every_setting_is_in_the_readme():
    rows = config_rows()
    missing = []
    for name, field in Settings.model_fields.items():
        if name not in rows:
            missing.append(name)
            continue
        nested = model_of(field.annotation)
        for sub, subfield in nested.model_fields.items() if nested else ():
            key = subfield.alias or sub
            if f"`{key}`" not in rows[name]:
                missing.append(f"{name}.{key}")
    assert not missing, f"settings without a line in README.md's Configuration: {missing}"

"""The README is the reference: every command and every metric that exists is in it."""

from __future__ import annotations

import click

from monitor.cli import cli
from monitor.metrics import Metrics
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

"""Every command, run the way users get it wrong, fails in one line and never with a traceback.

The walk covers the whole click tree, so a command added later is checked without anyone
remembering to: each gets placeholder values for its required arguments and options, and is
run against a config file that is not YAML, a store nobody can reach, a store in a folder
nobody can write, and a store file that does not exist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from monitor.cli import cli
from tests.conftest import RULES, SEED_FILES

# Commands that read or write the store, so must fail when it cannot be opened.
NEEDS_STORE = {
    "status",
    "alerts list",
    "alerts show",
    "silence add",
    "silence list",
    "silence expire",
    "rules backtest",
    "feeds list",
    "feeds remove",
    "feeds retry",
    "feeds export",
    "db upgrade",
    "db current",
    "db prune",
    "run",
    "stories merge",
    "stories split",
}
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT")  # the logs' text format; they go to stderr too
# Commands that never read the config.
NO_CONFIG = {"rules schema"}


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def command_of(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def placeholder_args(command: click.Command) -> list[str]:
    """A value for each required parameter: an existing file where a path must exist, a
    number where one is wanted, else a word."""
    args: list[str] = []
    options: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        if isinstance(param.type, click.Path):
            value = str(SEED_FILES[0])
        elif isinstance(param.type, click.types.IntParamType):
            value = "1"
        else:
            value = "x"
        if isinstance(param, click.Option):
            options += [param.opts[0], value]
        else:
            args.append(value)
    return options + args


COMMANDS = [" ".join(path) for path in leaf_commands(cli)]


def invoke(config: Path, name: str, env: dict[str, str] | None = None) -> Result:
    path = tuple(name.split())
    args = ["--config", str(config), *path, *placeholder_args(command_of(path))]
    return CliRunner().invoke(cli, args, env=env)


def assert_one_clean_line(name: str, result: Result) -> None:
    """Exited through click (no exception escaped) and said what went wrong in one line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"monitor {name}: {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output, f"monitor {name}:\n{result.output}"
    if result.exit_code != 0:
        said = [line for line in result.stderr.splitlines() if not LOG_LINE.match(line)]
        assert len(said) == 1, f"monitor {name}:\n{result.stderr}"


def write_config(tmp_path: Path, **keys: object) -> Path:
    path = tmp_path / "monitor.yaml"
    data = {"rules_dir": str(RULES), "server": {"port": 1}, **keys}
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_walk_finds_every_command():
    assert len(COMMANDS) > 25
    assert set(COMMANDS) >= NEEDS_STORE


@pytest.mark.parametrize("name", COMMANDS)
def test_a_config_that_is_not_yaml(tmp_path: Path, name: str) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - name: a\n    url: [unclosed\n")
    result = invoke(config, name)
    assert_one_clean_line(name, result)
    if name not in NO_CONFIG:
        assert result.exit_code == 1, result.output
        assert f"{config}:" in result.stderr and "invalid YAML" in result.stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unreachable_store(tmp_path: Path, name: str) -> None:
    config = write_config(tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/x")
    result = invoke(config, name)
    assert_one_clean_line(name, result)
    if name in NEEDS_STORE:
        assert result.exit_code != 0, result.output


def read_only_folder(tmp_path: Path) -> Path:
    """A folder no file can be created in; root ignores modes, but not /proc's rules."""
    if os.geteuid() == 0:
        return Path("/proc/self")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("name", COMMANDS)
def test_a_store_in_a_read_only_folder(tmp_path: Path, name: str) -> None:
    store = read_only_folder(tmp_path) / "monitor.db"
    config = write_config(tmp_path, database_url=f"sqlite:///{store}")
    result = invoke(config, name)
    assert_one_clean_line(name, result)
    if name in NEEDS_STORE:
        assert result.exit_code != 0, result.output
        assert str(store) in result.stderr, result.stderr


def test_commands_that_only_read_do_not_create_a_store(tmp_path: Path) -> None:
    store = tmp_path / "data" / "monitor.db"
    config = write_config(tmp_path, database_url=f"sqlite:///{store}")
    for name in ("status", "alerts list", "silence list", "rules backtest"):
        result = invoke(config, name)
        assert result.exit_code == 1, result.output
        assert f"no store at {store}" in result.stderr, result.stderr
    assert not store.exists()


def test_healthcheck_cannot_guess_a_port_picked_at_start(tmp_path: Path) -> None:
    config = write_config(tmp_path, server={"port": 0})
    result = CliRunner().invoke(cli, ["-c", str(config), "healthcheck"])
    assert result.exit_code == 1
    assert "server.port is 0" in result.stderr and "--url" in result.stderr

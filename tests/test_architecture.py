"""The README's Architecture section and the package agree, and modules stay small.

The section is how a newcomer finds their way; a file it names that moved, or a package whose
docstring no longer says what comes in and goes out, sends them the wrong way.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "monitor"
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_LINES = 300  # more needs a reason at the top of the module ("over 300 lines: ...")
STAGES = ("ingest", "detect", "alerting", "delivery", "store", "service", "cli", "config")


def architecture() -> str:
    start = README.index("## Architecture")
    return README[start : README.index("\n## ", start + 1)]


def test_every_monitor_path_in_the_readme_exists():
    paths = set(re.findall(r"`(monitor/[\w/.]+?)/?`", README))
    assert paths, "the README names no monitor/ paths"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == []


def test_every_module_in_the_architecture_diagram_exists():
    diagram = architecture().split("```")[1]
    package, named = None, []
    for line in diagram.splitlines():
        head = re.match(r"^([a-z]+)/\s", line)
        if head:
            package = head.group(1)
        if package is None:
            continue
        for name in re.findall(r"\b([a-z_*]+(?:\.py|/))", line[len(package) + 1 :]):
            named.append((package, name))
    assert len(named) > 40
    missing = []
    for package, name in named:
        found = list((PACKAGE / package).rglob(name.rstrip("/")))
        if not found:
            missing.append(f"{package}/{name}")
    assert missing == []


def test_each_stage_package_says_what_comes_in_and_goes_out():
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text())) or ""
        assert doc, f"monitor/{stage}/__init__.py has no docstring"
        if stage not in ("cli", "config", "store"):
            assert "In:" in doc and "Out:" in doc, f"monitor/{stage}: say what comes in and out"


def test_no_module_is_over_300_lines_without_a_reason():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and f"over {MAX_LINES} lines" not in doc:
            long.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert long == []


QUERY_NAMES = {"select", "update", "insert", "delete", "text", "col", "and_", "or_", "func"}


def _sql_in(path: Path) -> list[str]:
    """Query builders imported from SQLAlchemy/SQLModel, and statements run on a session."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "sqlalchemy",
            "sqlmodel",
        ):
            found += [f"imports {a.name}" for a in node.names if a.name in QUERY_NAMES]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("exec", "execute", "get", "add", "delete", "merge")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("session", "connection")
        ):
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


def test_sql_is_only_in_the_store():
    """Queries live in monitor/store/, one module an aggregate; other stages call them."""
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] != "store" and (found := _sql_in(path)):
            offenders[str(rel)] = found
    assert offenders == {}


# Not user-facing errors: a stop signal, a parser's early exit, and a bug in our own code.
NOT_IN_THE_FAMILY = {"FetchCancelled", "_RootReached", "IllegalTransition"}


def test_every_error_class_is_in_the_one_family():
    """What a command can fail on is a MonitorError, so the CLI maps it to one line."""
    import importlib
    import pkgutil

    import monitor
    from monitor.errors import MonitorError

    strays = []
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if info.name == "monitor.__main__" or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == info.name
                and name not in NOT_IN_THE_FAMILY
                and not issubclass(value, MonitorError)
            ):
                strays.append(f"{info.name}.{name}")
    assert strays == []

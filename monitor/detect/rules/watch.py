"""Hot reload: the daemon checks the rule files every few seconds and swaps in a new matcher.

An invalid change is logged with every problem and the last good rule set stays live, so a
typo saved in an editor never silences the monitor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.parse import load_rules

log = logging.getLogger(__name__)

Fingerprint = dict[Path, tuple[int, int]]


def fingerprint(root: Path) -> Fingerprint:
    """Modification time and size of every YAML file under the rules folder."""
    paths = [root] if root.is_file() else [*root.rglob("*.yaml"), *root.rglob("*.yml")]
    out: Fingerprint = {}
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        out[path] = (stat.st_mtime_ns, stat.st_size)
    return out


class RuleWatcher:
    def __init__(self, root: Path, on_change: Callable[[Matcher], None]) -> None:
        self.root = root
        self.on_change = on_change
        self._seen = fingerprint(root)
        self.reloads = 0
        self.failures = 0
        self.last_error = ""

    def check(self) -> bool | None:
        """True: reloaded; False: changed but invalid (old rules kept); None: no change."""
        current = fingerprint(self.root)
        if current == self._seen:
            return None
        self._seen = current
        source = load_rules(self.root)
        if source.problems:
            self.failures += 1
            self.last_error = "\n".join(str(p) for p in source.problems)
            log.error(
                "rule change rejected, the last good rules stay live; %d problem(s):\n%s",
                len(source.problems),
                self.last_error,
            )
            return False
        self.on_change(Matcher(source.rules))
        self.reloads += 1
        self.last_error = ""
        log.info("rules reloaded: %d rule(s) from %s", len(source.rules), self.root)
        return True

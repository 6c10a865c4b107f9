"""The console as the daemon serves it, made from the settings: safe by default.

Bound to loopback, it needs no credentials (and answers only to loopback names); bound to any
other address it is not served at all unless ``console.token``, ``console.token_file`` or
``console.basic_auth_file`` gives credentials, and then every page and API call needs them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from prometheus_client import Counter

from monitor.config import Settings
from monitor.console.app import Console
from monitor.console.auth import Guard
from monitor.detect.rules import Rule
from monitor.errors import ConfigError
from monitor.store.db import Store
from monitor.util.secrets import read_secret_file


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def guard_for(settings: Settings) -> Guard:
    """The guard the settings ask for; a ConfigError when the console would be open to more
    than this machine, or a credentials file cannot be used."""
    config = settings.console
    token = config.token.get_secret_value() if config.token is not None else ""
    if config.token_file is not None:
        token = read_secret_file(config.token_file, "console.token_file")
    basic: dict[str, str] = {}
    if config.basic_auth_file is not None:
        for n, line in enumerate(
            read_secret_file(config.basic_auth_file, "console.basic_auth_file").splitlines()
        ):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, sep, password = line.strip().partition(":")
            if not (sep and user and password):
                where = f"{config.basic_auth_file}:{n + 1}"
                raise ConfigError(f"console.basic_auth_file: {where}: expected user:password")
            basic[user] = password
    guard = Guard(token=token, basic=basic)
    if guard.open and not is_loopback(settings.server.host):
        raise ConfigError(
            f"the console is not served on {settings.server.host}, which is not loopback, "
            "without credentials: set console.token (or token_file, basic_auth_file), or "
            "console.enabled: false"
        )
    return guard


def build_console(
    settings: Settings, store: Store, rules: Callable[[], list[Rule]], verdicts: Counter | None
) -> Console:
    return Console(store, rules, guard_for(settings), verdicts, settings.console.page_size)

"""docker-compose.yml is a deployment, not a demo: its config and rules are mounted, every
secret comes from a file, both replicas and PostgreSQL have health checks, and the config it
mounts loads and validates as the containers will see it.

No Docker engine runs here, so the file is checked as data, and the config it mounts is loaded
from the same relative layout as in the container (``make image-check`` covers the image).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from monitor.config import load_settings
from monitor.detect.rules.parse import valid_rules
from monitor.service.logs import redact
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MONITOR, POSTGRES = COMPOSE["services"]["monitor"], COMPOSE["services"]["postgres"]


def mounts(service: dict) -> dict[str, str]:
    """container path -> host path, for the bind mounts of a service."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            found[target] = source
    return found


def test_two_replicas_and_postgres_with_health_checks():
    assert MONITOR["deploy"]["replicas"] == 2
    assert MONITOR["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "readyz" in " ".join(MONITOR["healthcheck"]["test"])
    assert "pg_isready" in " ".join(POSTGRES["healthcheck"]["test"])


def test_config_and_rules_are_mounted_from_the_checkout():
    binds = mounts(MONITOR)
    assert MONITOR["environment"]["MONITOR_CONFIG"] in binds
    assert "/etc/monitor/rules" in binds
    for source in binds.values():
        assert (ROOT / source).exists(), source


def test_every_secret_comes_from_a_git_ignored_file():
    declared = COMPOSE["secrets"]
    for service in (MONITOR, POSTGRES):
        for name in service.get("secrets", []):
            assert declared[name]["file"].startswith("./secrets/"), name
        for key, value in service.get("environment", {}).items():
            assert "PASSWORD" not in key or key.endswith("_FILE"), key
            assert "://" not in str(value) or "@" not in str(value), key  # no URL with a password
    assert POSTGRES["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "secrets/database_url"], cwd=ROOT, check=False
    )
    if (ROOT / ".git").exists():
        assert ignored.returncode == 0, "secrets/ must be git-ignored"


@pytest.fixture
def container(tmp_path: Path, monkeypatch) -> Path:
    """The monitor container's view: the mounted config and rules, and the secret files."""
    for target, source in mounts(MONITOR).items():
        where = tmp_path / target.lstrip("/")
        where.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, where)
        else:
            shutil.copy(ROOT / source, where)
    secrets = tmp_path / "run" / "secrets"
    secrets.mkdir(parents=True)
    url = "postgresql+psycopg://monitor:s3cr3t-hex-pw@postgres:5432/monitor"
    (secrets / "database_url").write_text(url + "\n")
    (secrets / "slack_token").write_text("xoxb-test-token")
    env = MONITOR["environment"]
    monkeypatch.setenv("MONITOR_DATABASE_URL_FILE", str(secrets / "database_url"))
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / env["MONITOR_CONFIG"].lstrip("/")))
    return tmp_path


def test_the_mounted_config_loads_as_the_container_sees_it(container: Path):
    settings = load_settings()
    assert settings.database_url.startswith("postgresql+psycopg://monitor:")
    assert "s3cr3t-hex-pw" not in redact(f"connecting to {settings.database_url}")
    assert settings.rules_dir == container / "etc/monitor/rules"
    assert len(valid_rules(settings.rules_dir)) >= 2
    assert settings.log_format == "json" and settings.server.host == "0.0.0.0"
    published = {p.rsplit(":", 1)[1] for p in MONITOR["ports"]}
    assert published == {str(settings.server.port)}
    assert str(settings.server.port) in " ".join(MONITOR["healthcheck"]["test"])
    monitor_secrets = {f"/run/secrets/{name}" for name in MONITOR["secrets"]}
    for name, channel in settings.channels.items():
        for key in ("token_file", "webhook_url_file", "password_file", "secret_file"):
            path = getattr(channel, key, None)
            if path is not None:
                assert str(path) in monitor_secrets, f"{name}.{key}: {path} is not mounted"

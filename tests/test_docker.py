"""The Docker files: no engine runs here, so check what can be checked without one."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parent.parent / "docker"


def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_runs_web_worker_beat_postgres_and_redis() -> None:
    services = compose()["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    assert "uvicorn config.asgi:application" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_every_platform_setting_comes_from_the_environment() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        for key in (
            "DJANGO_SECRET_KEY",
            "DJANGO_ALLOWED_HOSTS",
            "EMAIL_URL",
            "GATEWAY_SECRET_KEYS",
        ):
            assert environment[key].startswith("${" + key + ":?"), (name, key)
        assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def test_every_required_variable_is_in_the_example_and_the_example_holds_no_secret() -> None:
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (DOCKER / "compose.yaml").read_text()))
    example = dict(
        line.split("=", 1)
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required <= set(example)
    for secret in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "GATEWAY_SECRET_KEYS"):
        assert example[secret] == "", secret

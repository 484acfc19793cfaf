"""Settings come from the environment: embedded by default, real services when configured."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'],"
    " 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    " 'broker': s.CELERY_BROKER_URL}))"
)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS"))
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def probe(env: dict[str, str]) -> dict[str, object]:
    result = run({"DJANGO_SETTINGS_MODULE": "config.settings.base", **env}, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_the_platform_runs_embedded() -> None:
    assert probe({}) == {
        "db": "django.db.backends.sqlite3",
        "layer": "channels.layers.InMemoryChannelLayer",
        "eager": True,
        "broker": "memory://",
    }


def test_database_url_and_redis_url_switch_to_real_services() -> None:
    found = probe(
        {
            "DATABASE_URL": "postgres://u@db.invalid:5432/heb",
            "REDIS_URL": "redis://r.invalid:6379/0",
        }
    )
    assert found == {
        "db": "django.db.backends.postgresql",
        "layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "eager": False,
        "broker": "redis://r.invalid:6379/0",
    }


def production_env() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "heb.example.org",
    }


def test_production_settings_pass_check_deploy() -> None:
    result = run(production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = run(env, "manage.py", "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


HARDENING_PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({k: getattr(s, k) for k in ("
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
    " 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
    " 'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'SECURE_CONTENT_TYPE_NOSNIFF',"
    " 'X_FRAME_OPTIONS', 'DEBUG', 'MIDDLEWARE', 'AUTHENTICATION_BACKENDS',"
    " 'CONTENT_SECURITY_POLICY', 'AXES_FAILURE_LIMIT', 'MFA_STEP_UP_MINUTES')}, default=str))"
)


def test_production_is_hardened() -> None:
    result = run(production_env(), "-c", HARDENING_PROBE)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    for flag in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                 "SECURE_SSL_REDIRECT", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                 "SECURE_CONTENT_TYPE_NOSNIFF"):  # fmt: skip
        assert found[flag] is True, flag
    assert found["DEBUG"] is False and found["X_FRAME_OPTIONS"] == "DENY"
    assert found["SECURE_HSTS_SECONDS"] >= 31536000
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    middleware = found["MIDDLEWARE"]
    for name in ("csp.middleware.CSPMiddleware", "django_otp.middleware.OTPMiddleware",
                 "apps.accounts.middleware.MfaRequiredMiddleware",
                 "apps.accounts.middleware.StaffAuditMiddleware"):  # fmt: skip
        assert name in middleware, name
    assert middleware[-1] == "axes.middleware.AxesMiddleware"
    assert found["AUTHENTICATION_BACKENDS"][0] == "apps.accounts.backends.LockoutBackend"
    directives = found["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["script-src"] == directives["style-src"] == ["'self'"]


def test_lockout_and_step_up_are_set_from_the_environment() -> None:
    env = {**production_env(), "LOGIN_FAILURE_LIMIT": "3", "MFA_STEP_UP_MINUTES": "5"}
    found = json.loads(run(env, "-c", HARDENING_PROBE).stdout.strip().splitlines()[-1])
    assert (found["AXES_FAILURE_LIMIT"], found["MFA_STEP_UP_MINUTES"]) == (3, 5)

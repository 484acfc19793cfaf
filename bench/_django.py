"""Django for a benchmark: a throw-away database, migrated, dropped at exit.

With DATABASE_URL set to PostgreSQL the benchmark gets its own database on that
server (never the one the URL names); without it, a temporary SQLite file.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _postgres_bench_url(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    name = f"heb_bench_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _sqlite_bench_url() -> str:
    directory = tempfile.TemporaryDirectory(prefix="heb-bench-")
    atexit.register(directory.cleanup)
    return f"sqlite:///{directory.name}/bench.sqlite3"


def setup() -> None:
    """Point Django at a fresh database, set it up and migrate it."""
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("DATABASE_URL", "")
    is_postgres = url.startswith(("postgres://", "postgresql://"))
    os.environ["DATABASE_URL"] = _postgres_bench_url(url) if is_postgres else _sqlite_bench_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def vendor() -> str:
    from django.db import connection

    return connection.vendor

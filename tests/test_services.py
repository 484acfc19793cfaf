"""The real components: PostgreSQL, a real Celery worker on Redis, Channels on Redis.

These fail (not skip) when CI is set and the service is missing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import connection
from django.utils import timezone
from guardian.shortcuts import get_perms

from apps.households.models import InstallerAssignment
from apps.households.tasks import expire_installer_assignments
from config.celery import app as celery_app
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent


def test_the_suite_runs_on_postgresql_when_configured(postgres: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_channels_redis_layer_delivers_a_group_message(redis_url: str) -> None:
    async def roundtrip() -> dict:
        sender = RedisPubSubChannelLayer(hosts=[redis_url])
        receiver = RedisPubSubChannelLayer(hosts=[redis_url])
        channel = await receiver.new_channel()
        await receiver.group_add("household.test", channel)
        await sender.group_send("household.test", {"type": "household.event", "payload": {"w": 1}})
        message = await asyncio.wait_for(receiver.receive(channel), timeout=5)
        await receiver.group_discard("household.test", channel)
        await sender.flush()
        await receiver.flush()
        return message

    assert asyncio.run(roundtrip())["payload"] == {"w": 1}


@pytest.fixture
def celery_worker_process(postgres: None, redis_url: str, transactional_db: None):
    """A real `celery worker` process on Redis, using the test database."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "warning",
         "-Q", "celery", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    conf = celery_app.conf
    previous = (conf.task_always_eager, conf.broker_url, conf.result_backend)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = redis_url
    celery_app.conf.result_backend = redis_url
    try:
        yield worker
    finally:
        conf.task_always_eager, conf.broker_url, conf.result_backend = previous
        worker.terminate()
        worker.wait(timeout=20)


def test_a_real_worker_expires_installer_grants(world: World, celery_worker_process) -> None:
    installer = world.users["installer"]
    InstallerAssignment.objects.filter(installer=installer).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    result = expire_installer_assignments.apply_async()
    assert result.get(timeout=60) == 1
    assert get_perms(installer, world.household) == []

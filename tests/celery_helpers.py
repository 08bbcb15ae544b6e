"""A real Celery worker (in a thread) on a real Redis for integration and fault tests, with
eager execution off while it runs and the keys under a prefix of this run's own."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings

import procurement

FALLBACK_BROKER = "redis://127.0.0.1:6379/13"
# The queues a production worker consumes (README, "Deployment"): budgets and alerts go to notify.
QUEUES = ["default", "ingest", "close", "pdf", "notify"]


def redis_broker_url() -> str:
    configured = settings.CELERY_BROKER_URL
    return configured if configured.startswith(("redis://", "rediss://")) else FALLBACK_BROKER


def use_broker(url: str, prefix: str | None = None) -> None:
    """Send (and consume) through ``url`` from now on, eager execution off. (Celery prefers the
    CELERY_BROKER_URL environment variable to ``broker_url``; the read and write URLs win over
    both.)"""
    app = procurement.celery_app
    app.conf.update(
        broker_url=url,
        broker_read_url=url,
        broker_write_url=url,
        task_always_eager=False,
        broker_transport_options={"global_keyprefix": prefix} if prefix else {},
    )
    app._pool = None  # the pool and producers were made for the previous broker
    app.amqp._producer_pool = None


@contextmanager
def eager_restored():
    """Whatever the test does to the app's broker, the settings are back afterwards."""
    app = procurement.celery_app
    keys = ("broker_url", "broker_read_url", "broker_write_url", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf.get(key) for key in keys}
    try:
        yield
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None


@contextmanager
def worker_on_redis():
    """A worker thread consuming this run's prefix on the configured Redis."""
    from celery.contrib.testing.worker import start_worker

    broker = redis_broker_url()
    client = redis.Redis.from_url(broker, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"no Redis at {broker} ({exc}): the integration tests need a real broker; start Redis")
    # Other test runs on this machine may share the Redis database: their workers must not
    # take our tasks (nor we theirs).
    prefix = f"procurement-test-{uuid.uuid4().hex}:"
    with eager_restored():
        use_broker(broker, prefix)
        try:
            with start_worker(
                procurement.celery_app, perform_ping_check=False, queues=QUEUES, shutdown_timeout=30
            ) as worker:
                yield worker
        finally:
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
            client.close()

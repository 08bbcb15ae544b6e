"""Services schedule side effects without importing tasks: ``enqueue_on_commit`` names the
task, Celery finds it in its registry when the transaction commits (in eager mode, as in
the tests, it runs there and then). Tasks import services; services never import tasks."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue(name: str, *args: Any, **options: Any) -> None:
    """Send the registered task ``name`` now, with ``apply_async``'s ``options`` (countdown, …)."""
    registry = current_app.tasks
    if name not in registry:
        # A process that is not a worker (manage.py seed_demo, close_month, the web server)
        # has not imported the apps' tasks modules yet: autodiscovery runs on this signal.
        current_app.loader.import_default_modules()
    registry[name].apply_async(args, **options)


def enqueue_on_commit(name: str, *args: Any, robust: bool = False, **options: Any) -> None:
    """Send the task ``name`` once the current transaction commits (at once outside one).

    ``robust``: an enqueue that raises (or, eagerly, a task that fails) is logged instead of
    stopping the other on-commit callbacks — one failing alert channel must not hold back
    the others."""
    transaction.on_commit(lambda: enqueue(name, *args, **options), robust=robust)

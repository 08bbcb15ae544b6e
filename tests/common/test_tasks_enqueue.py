"""Enqueueing by name works in a process that has not imported the apps' tasks modules (a
management command such as seed_demo or close_month), not only in a worker."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import sys
import django
django.setup()
from celery import current_app
from unittest import mock
assert "billing.tasks" not in sys.modules, "imported too early: the probe proves nothing"
sent = []
with mock.patch("celery.app.task.Task.apply_async", lambda self, args, **kw: sent.append(self.name)):
    from common.tasks import enqueue
    enqueue("billing.tasks.bill_render_and_send", 1)
print(sent)
"""


def test_it_finds_a_task_by_name_before_any_tasks_module_is_imported():
    env = {k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL", "HOME", "PATH")}
    env.update({"DJANGO_SETTINGS_MODULE": "procurement.settings", "PROCUREMENT_ENV": "test"})

    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "['billing.tasks.bill_render_and_send']"

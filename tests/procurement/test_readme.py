"""Every command README.md shows works as written, the way a newcomer runs it.

The commands are read from README.md itself, so this test follows the README when it
changes: every inline `manage.py …` command and every ```sh block. They run as
subprocesses against the test database with the environment of a fresh clone: no
PROCUREMENT_ENV, SECRET_KEY, DJANGO_DEBUG nor DATABASE_URL. Without DATABASE_URL the
settings start the embedded PostgreSQL; here its URL is the test database's (made by a
wrapper around manage.py), and PDFs and e-mails are written under a temporary directory
instead of var/. The broker is the test suite's (CELERY_BROKER_URL, as in CI). The deployment block runs with the
production variables it names, and its servers are started and stopped again.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Bill, UsageRecord
from billing.periods import current_period, format_period, next_period
from customers.models import ApiKey
from procurement.settings import BASE_DIR

pytestmark = pytest.mark.django_db(transaction=True)

README = (BASE_DIR / "README.md").read_text()
MANAGE = ".venv/bin/python manage.py"
# What a placeholder in the README stands for here.
PLACEHOLDERS = {
    "USERNAME": "finance",
    "NAME": "edge-1",
    "SHARE": "0.1",
    "DATE": None,  # today, filled in by values()
    "YYYY-MM": None,  # the previous month
    "CODE": "ACME",
}
# Exit statuses the README documents for a command (0 otherwise).
EXIT_STATUSES = {"close_month": {0, 3}}
# ```sh lines that this test does not run, and why.
NOT_RUN = {
    "make run": "the set-up (pip, apt) and servers; its supervisor is tested in tests/procurement/test_run.py",
    "make test": "runs this very suite",
}
# The demo at scale 1 (README, "What make run shows"): about 69,000 calls.
DEMO_CALLS = (62_000, 76_000)

# Runs manage.py exactly as `.venv/bin/python manage.py …` would, except that the embedded
# PostgreSQL's URL is the test database's.
WRAPPER = """\
import os, runpy, sys
sys.path.insert(0, os.getcwd())  # as `python manage.py` has manage.py's directory first
import procurement.embedded_db as embedded_db
url = os.environ.pop("README_TEST_EMBEDDED_URL")
embedded_db.ensure_running = lambda: url
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def values() -> dict[str, str]:
    today = current_period()
    return {
        **PLACEHOLDERS,
        "DATE": timezone.localdate().isoformat(),
        "YYYY-MM": format_period(next_period(today, -1)),
    }


def inline_commands() -> list[str]:
    """`manage.py …` spans, and the items of the "Management commands" list, in order."""
    found = [m.group(1) for m in re.finditer(r"`(?:\.venv/bin/python )?manage\.py ([^`…]+)`", README)]
    listing = re.search(r"Management commands \(`\.venv/bin/python manage\.py …`.*?\):(.+?)\n\n", README, re.S)
    assert listing, "README.md no longer has its list of management commands"
    found += re.findall(r"`([a-z_]+(?:\s+[^`]*)?)`", listing.group(1))
    commands = []
    for command in found:
        command = " ".join(command.split())
        if command.split()[0].endswith(".py") or "/" in command.split()[0]:
            continue  # a file named in the prose, not a command
        if command not in commands:
            commands.append(command)
    # seed_demo first: the other commands work on the demo's users and bills.
    return sorted(commands, key=lambda c: not c.startswith("seed_demo"))


def expand(command: str) -> list[list[str]]:
    """A command with placeholders → the argument lists to run: with every optional part
    filled in, and bare when it has optional parts."""
    fill = values()

    def substitute(text: str) -> list[str]:
        words = []
        for word in text.replace("[", " ").replace("]", " ").split():
            if word in fill:
                word = fill[word]
            assert word == word.lower() or word.startswith("--") or word in fill.values(), (
                f"README command {command!r}: no value for the placeholder {word!r} (add it to PLACEHOLDERS)"
            )
            words.append(word)
        return words

    full = substitute(command)
    bare = substitute(re.sub(r"\[[^\]]*\]", "", command))
    return [full] if full == bare else [bare, full]


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def fresh_clone_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PROCUREMENT_ENV", "SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith("PYTEST")
    }
    env["README_TEST_EMBEDDED_URL"] = database_url_of_the_tests()
    # Where files go (both optional): not into this checkout's var/, beside a developer's demo.
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["EMAIL_URL"] = f"filemail://{tmp_path / 'mail'}"
    (tmp_path / "manage_fresh_clone.py").write_text(WRAPPER)
    return env


def database_url_of_the_tests() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def manage_argv(tmp_path: Path, args: list[str]) -> list[str]:
    return [str(BASE_DIR / ".venv" / "bin" / "python"), str(tmp_path / "manage_fresh_clone.py"), *args]


def run(argv: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def api_get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_every_manage_py_command_and_the_curl_snippet_work_as_written(live_server, tmp_path):
    env = fresh_clone_env(tmp_path)
    commands = inline_commands()
    assert commands[0].startswith("seed_demo")
    assert {"create_api_token USERNAME", "create_gateway_token NAME"} <= set(commands)

    for command in commands:
        for args in expand(command):
            result = run(manage_argv(tmp_path, args), env)
            allowed = EXIT_STATUSES.get(args[0], {0})
            assert result.returncode in allowed, f"manage.py {' '.join(args)}: {result.returncode}\n{result.stderr}"
            if args[0] == "seed_demo" and len(args) == 1:
                # the demo the README describes, at its full size
                assert DEMO_CALLS[0] <= UsageRecord.objects.count() <= DEMO_CALLS[1]
            if args[0] in {"create_api_token", "create_gateway_token"}:
                token = result.stdout.strip().splitlines()[-1]
                assert " " not in token and len(token) >= 20
                if args[0] == "create_api_token":
                    assert api_get(f"{live_server.url}/api/v1/bills/", token) == 200
            if args[0] == "close_month" and result.returncode == 3:
                assert "acme-finetune-v2" in result.stdout  # the held bill, the reason on its line
    assert Bill.objects.filter(status=Bill.Status.DRAFT, customer__code="ACME").exists()

    (curl,) = [block for block in sh_blocks() if "curl" in block]
    expected = json.loads(re.search(r"^# (\{.*\})$", curl, re.M).group(1))
    key = ApiKey.objects.filter(customer__code="ACME").order_by("pk").first()
    script = (
        curl.replace(MANAGE, shlex.join(manage_argv(tmp_path, [])))
        .replace("http://127.0.0.1:8000", live_server.url)
        .replace("ak_…", key.key_id)
    )
    result = run(["bash", "-euo", "pipefail", "-c", script], env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_the_make_lines_are_the_ones_known_not_to_run_here():
    make_lines = [
        line.split("#")[0].strip()
        for block in sh_blocks()
        for line in block.splitlines()
        if line.strip().startswith("make ")
    ]

    assert make_lines and set(make_lines) <= set(NOT_RUN), make_lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_and_stop(argv: list[str], env: dict[str, str], ready, settle: float = 0, timeout: float = 60) -> str:
    """Start a server, wait until ``ready(output)`` is true and it still runs ``settle``
    seconds later, stop it; returns its output."""
    process = subprocess.Popen(
        argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not ready("".join(lines)):
            assert process.poll() is None, f"{argv[0]} exited with {process.returncode}:\n{''.join(lines)}"
            assert time.monotonic() < deadline, f"{argv[0]} did not start:\n{''.join(lines)}"
            time.sleep(0.2)
        time.sleep(settle)
        assert process.poll() is None, f"{argv[0]} exited with {process.returncode}:\n{''.join(lines)}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=5)
    return "".join(lines)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_the_deployment_commands_work_with_the_production_variables(tmp_path):
    (block,) = [b for b in sh_blocks() if "gunicorn" in b]
    env = {
        k: v for k, v in os.environ.items() if k not in {"PROCUREMENT_ENV", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=database_url_of_the_tests(),
        SECRET_KEY="readme-test-production-key",
        ALLOWED_HOSTS="127.0.0.1",
        PATH=f"{BASE_DIR / '.venv' / 'bin'}:{env['PATH']}",
        PYTHONUNBUFFERED="1",  # the servers' start-up lines reach the pipe at once
    )
    lines = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    started = set()
    for line in lines:
        program = shlex.split(line)[0]
        if program == "gunicorn":
            port = free_port()
            argv = shlex.split(line.replace("0.0.0.0:8000", f"127.0.0.1:{port}"))
            start_and_stop(argv, env, lambda _out, port=port: answers(f"http://127.0.0.1:{port}/healthz"))
        elif program == "celery" and " worker" in line:
            # at its default log level the worker prints its banner, not "ready."
            start_and_stop(shlex.split(line), env, lambda out: "[queues]" in out, settle=3)
        elif program == "celery" and " beat" in line:
            start_and_stop(shlex.split(line), env, lambda out: "is starting." in out, settle=3)
        elif program == "python":
            result = run(["bash", "-euo", "pipefail", "-c", line], env)
            assert result.returncode == 0, f"{line}:\n{result.stdout}\n{result.stderr}"
        else:
            pytest.fail(f"README's deployment block has a command this test does not know how to run: {line}")
        started.add(program)

    assert started == {"gunicorn", "celery", "python"}

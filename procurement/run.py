"""``make run``: the local demo supervisor (``python -m procurement.run``).

1. Without ``DATABASE_URL``, starts the embedded PostgreSQL under ``var/pgdata`` (and stops
   it again at exit when it was started here).
2. ``manage.py migrate``, then ``manage.py seed_demo`` when that command exists (it is
   idempotent, so it runs at every start and picks up demo data for new features).
3. Starts three children, each line of their output prefixed with its name:
   ``web`` (gunicorn on 127.0.0.1:$PORT, default 8000: one gthread worker with WEB_THREADS
   threads, so a slow client holds one thread, not the server; static files from WhiteNoise),
   Celery ``worker`` and ``beat``.
4. Prints the URLs and the demo logins, then waits. Ctrl-C, SIGINT or SIGTERM stops the children
   (SIGTERM, then SIGKILL after 10 s) and the embedded server, and exits 0. When a child
   dies on its own the others are stopped too and the exit status is 1.

Under ``make run`` a process manager signals make's own PID, not the terminal's process
group. GNU make forwards SIGTERM to its child (the Makefile ``exec``s this runner, so the
child is this process) but on SIGINT only waits for its children, which would wait for
ever. So this runner watches its parent: when make has taken a terminating signal (its
handler for it is reset, /proc/PPID/status ``SigCgt``) or the parent is gone, it shuts down
as if it had been signalled itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = [PYTHON, str(BASE_DIR / "manage.py")]
STOP_TIMEOUT = 10.0
QUEUES = "default,ingest,close,pdf,notify"
WEB_THREADS = 8


def web_argv(host: str, port: int) -> list[str]:
    """The web server of make run: gunicorn's threaded worker, as in production."""
    return [PYTHON, "-m", "gunicorn", "procurement.wsgi", "-b", f"{host}:{port}", "-w", "1"] + [
        "-k",
        "gthread",
        "--threads",
        str(WEB_THREADS),
        "--access-logfile",
        "-",
    ]


class Shutdown(Exception):
    """Raised by the signal handler: Ctrl-C or SIGTERM."""


class ChildFailed(Exception):
    """A step failed or a child ended on its own; the message says which."""


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


# --- Signals ----------------------------------------------------------------------------

_force = False


def _on_signal(signum, frame):
    # First signal: leave whatever we are doing and shut down. While shutting down, a
    # second Ctrl-C only makes the shutdown skip the graceful wait.
    _ignore_signals_during_shutdown()
    raise Shutdown(signum)


def _on_signal_during_shutdown(signum, frame):
    global _force
    _force = True


_shutting_down = False


def _ignore_signals_during_shutdown() -> None:
    global _shutting_down
    _shutting_down = True
    signal.signal(signal.SIGINT, _on_signal_during_shutdown)
    signal.signal(signal.SIGTERM, _on_signal_during_shutdown)


# --- The parent (make) ------------------------------------------------------------------

PARENT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
MAKE_NAMES = {"make", "gmake"}


def caught_signals(pid: int) -> set[int] | None:
    """The signals ``pid`` has a handler for (Linux /proc); None when unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    mask = int(line.split()[1], 16)
                    return {sig for sig in range(1, 65) if mask & (1 << (sig - 1))}
    except (OSError, ValueError):
        return None
    return None


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


class ParentWatch:
    """Tells when the parent has gone, or — for make — has taken a terminating signal.

    GNU make's handler for a fatal signal first resets the signal to its default, then waits
    for the children: a signal make caught at our start and no longer catches means make is
    stopping (a process manager signalled make's PID)."""

    def __init__(self, pid: int | None = None):
        self.pid = pid or os.getppid()
        self.is_make = process_name(self.pid) in MAKE_NAMES
        caught = caught_signals(self.pid) if self.is_make else None
        self.watched = {int(s) for s in PARENT_SIGNALS} & (caught or set())

    def stopping(self) -> str | None:
        """Why the parent is stopping, or None while it is not."""
        if os.getppid() != self.pid:
            return "the parent process is gone"
        if self.watched:
            caught = caught_signals(self.pid)
            if caught is not None and not self.watched <= caught:
                names = ", ".join(signal.Signals(s).name for s in sorted(self.watched - caught))
                return f"make was sent {names}"
        return None


def watch_parent(interval: float = 0.3) -> threading.Thread:
    """Signal the main thread (SIGTERM) once the parent is stopping: the same shutdown as a
    signal sent to this process, wherever the main thread is waiting."""
    watch = ParentWatch()
    main_thread = threading.main_thread().ident

    def loop() -> None:
        while True:
            if _shutting_down:
                return
            reason = watch.stopping()
            if reason:
                say(f"{reason}; shutting down")
                signal.pthread_kill(main_thread, signal.SIGTERM)
                return
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="parent-watch", daemon=True)
    thread.start()
    return thread


# --- Children -----------------------------------------------------------------------------

_libc = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None
PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    # Own process group: the terminal's Ctrl-C reaches only this supervisor, which then
    # stops the children in order. If the supervisor dies without cleaning up, the
    # kernel sends the child SIGTERM (Linux).
    os.setpgid(0, 0)
    if _libc is not None and sys.platform.startswith("linux"):
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], prefix: bool = True, ready_when: bytes = b""):
        self.name = name
        self.argv = argv
        # Set once a line containing ready_when has been printed (at once without one).
        self.ready_when = ready_when
        self.ready = threading.Event()
        if not ready_when:
            self.ready.set()
        self.proc = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if prefix else None,
            stderr=subprocess.STDOUT if prefix else None,
            preexec_fn=_child_setup,
        )
        self.reader = None
        if prefix:
            self.reader = threading.Thread(target=self._copy_output, daemon=True)
            self.reader.start()

    def _copy_output(self) -> None:
        label = f"{self.name:>6} | ".encode()
        out = sys.stdout.buffer
        for line in iter(self.proc.stdout.readline, b""):
            if self.ready_when and self.ready_when in line:
                self.ready.set()
            out.write(label + line if line.endswith(b"\n") else label + line + b"\n")
            out.flush()

    def poll(self) -> int | None:
        return self.proc.poll()

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def finish(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=2)


def stop_children(children: list[Child]) -> None:
    running = [c for c in children if c.poll() is None]
    if running:
        say("stopping " + ", ".join(c.name for c in running) + " …")
    # SIGTERM to the child itself: a Celery worker then stops its own pool processes.
    for child in running:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(c.poll() is None for c in running) and time.monotonic() < deadline and not _force:
        time.sleep(0.1)
    for child in running:
        if child.poll() is None:
            say(f"{child.name} did not stop in time; killing it")
        # Kill the whole group either way: it takes a worker's pool processes too.
        child.signal_group(signal.SIGKILL)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=5)
        child.finish()


def run_step(name: str, argv: list[str], env: dict[str, str]) -> int:
    """Run a set-up command to its end (output passed through unchanged)."""
    child = Child(name, argv, env, prefix=False)
    try:
        return child.proc.wait()
    finally:
        if child.poll() is None:  # interrupted by Ctrl-C
            stop_children([child])


# --- Set-up ------------------------------------------------------------------------------


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, web: Child, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def has_command(name: str, env: dict[str, str]) -> bool:
    result = subprocess.run(
        [*MANAGE, "help", "--commands"],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=_child_setup,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise ChildFailed("`manage.py help --commands` failed")
    return name in result.stdout.split()


def banner(host: str, port: int, database: str, broker: str, seeded: bool | None) -> str:
    from procurement.demo import DEMO_LOGINS, DEMO_PORTAL_USERNAME

    base = f"http://{host}:{port}"
    rows = [("username", "password", "who"), *DEMO_LOGINS]
    portal_login = " / ".join(next(row[:2] for row in DEMO_LOGINS if row[0] == DEMO_PORTAL_USERNAME))
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    lines = [
        "",
        "=" * 78,
        "  Procurement Center is running",
        "",
        f"  App        {base}/",
        f"  Admin      {base}/admin/",
        f"  Portal     {base}/portal/  (customer login: {portal_login})",
        f"  API docs   {base}/api/docs/",
        "",
        f"  Database   {database}",
        f"  Broker     {broker}",
        "  E-mails    written to var/mail/ (set EMAIL_URL to send them)",
        "",
        "  Demo logins:",
    ]
    for i, (user, password, who) in enumerate(rows):
        lines.append(f"    {user:<{w1}}  {password:<{w2}}  {who}")
        if i == 0:
            lines.append(f"    {'-' * w1}  {'-' * w2}  {'-' * 30}")
    if seeded is None:
        lines += ["", "  (seed_demo does not exist yet: the demo logins are not created.)"]
    elif seeded is False:
        lines += ["", "  (seed_demo FAILED, see above: demo data may be missing.)"]
    lines += ["", "  Press Ctrl-C to stop.", "=" * 78, ""]
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------------


def main() -> int:
    os.chdir(BASE_DIR)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    watch_parent()

    env = dict(os.environ)
    env.setdefault("PROCUREMENT_ENV", "run")
    env.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")
    env["PYTHONUNBUFFERED"] = "1"
    host = "127.0.0.1"
    try:
        port = int(env.get("PORT") or 8000)
    except ValueError:
        say(f"PORT={env.get('PORT')!r} is not a port number")
        return 2

    children: list[Child] = []
    db_started_here = False
    exit_code = 0
    try:
        if not port_is_free(host, port):
            raise ChildFailed(f"port {port} on {host} is already in use; stop what uses it or set PORT=…")
        (BASE_DIR / "var" / "celery").mkdir(parents=True, exist_ok=True)

        if env.get("DATABASE_URL"):
            database = hide_password(env["DATABASE_URL"])
        else:
            from procurement import embedded_db

            db_started_here = not embedded_db.is_running()
            say(
                "starting the embedded PostgreSQL (var/pgdata) …"
                if db_started_here
                else "embedded PostgreSQL already running"
            )
            env["DATABASE_URL"] = embedded_db.ensure_running()
            database = "embedded PostgreSQL under var/pgdata" + (
                "" if db_started_here else " (was already running; left running at exit)"
            )
        broker = hide_password(env["CELERY_BROKER_URL"]) if env.get("CELERY_BROKER_URL") else "filesystem (var/celery)"

        say("migrating …")
        if run_step("migrate", [*MANAGE, "migrate", "--noinput"], env) != 0:
            raise ChildFailed("`manage.py migrate` failed")

        seeded: bool | None = None
        if has_command("seed_demo", env):
            say("loading demo data (seed_demo) …")
            seeded = run_step("seed_demo", [*MANAGE, "seed_demo"], env) == 0
            if not seeded:
                say("WARNING: seed_demo failed; starting without (complete) demo data")
        else:
            say("seed_demo does not exist yet; no demo data loaded")

        web = Child("web", web_argv(host, port), env)
        children.append(web)
        children.append(
            Child(
                "worker",
                [PYTHON, "-m", "celery", "-A", "procurement", "worker", "-Q", QUEUES]
                + ["--loglevel=INFO", "--concurrency=2", "--hostname=procurement@%h"],
                env,
                ready_when=b" ready.",
            )
        )
        children.append(
            Child(
                "beat",
                [PYTHON, "-m", "celery", "-A", "procurement", "beat", "--loglevel=INFO"]
                + ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
                + ["--schedule", "var/celery/beat-schedule", "--pidfile", "var/celery/beat.pid"],
                env,
            )
        )
        if not wait_for_port(host, port, web):
            raise ChildFailed("the web server did not start")
        # Print the banner after the worker's start-up lines, so that it stays visible.
        deadline = time.monotonic() + 30
        while not all(c.ready.is_set() for c in children) and time.monotonic() < deadline:
            for child in children:
                if child.poll() is not None:
                    raise ChildFailed(f"{child.name} exited during start-up (exit status {child.poll()})")
            time.sleep(0.1)
        time.sleep(0.3)
        print(banner(host, port, database, broker, seeded), flush=True)

        while True:
            for child in children:
                code = child.poll()
                if code is not None:
                    raise ChildFailed(f"{child.name} exited unexpectedly (exit status {code})")
            time.sleep(0.5)
    except Shutdown:
        print(flush=True)
        say("shutting down …")
    except ChildFailed as failure:
        _ignore_signals_during_shutdown()
        say(f"ERROR: {failure}; stopping everything")
        exit_code = 1
    except BaseException:
        _ignore_signals_during_shutdown()
        import traceback

        traceback.print_exc()
        exit_code = 1
    finally:
        _ignore_signals_during_shutdown()
        stop_children(children)
        if db_started_here:
            say("stopping the embedded PostgreSQL …")
            try:
                from procurement import embedded_db

                embedded_db.stop()
            except Exception as exc:
                say(f"could not stop the embedded PostgreSQL: {exc}")
                exit_code = exit_code or 1
    say("stopped." if exit_code == 0 else f"stopped (exit status {exit_code}).")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

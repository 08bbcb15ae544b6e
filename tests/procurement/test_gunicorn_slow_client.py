"""Issue 21 items 8 and 9 on a real server: gunicorn as the README's deployment line and as
``make run`` start it (production settings), with clients sending their bodies at one byte a
second beside it — health checks must all answer at once; and a 300 MB body to the login is
refused (413) before the client has sent it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from procurement.run import web_argv
from procurement.settings import BASE_DIR
from tests.procurement.test_readme import README, database_url_of_the_tests, free_port

SLOW_CLIENTS = 4  # as many as the README's workers: with one thread each, they would all be held
BODY = 40  # bytes each sends, one a second


def readme_gunicorn_argv(port: int) -> list[str]:
    (line,) = [
        line.split("  #")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", README, re.S)
        for line in block.splitlines()
        if line.strip().startswith("gunicorn ")
    ]
    return shlex.split(line.replace("0.0.0.0:8000", f"127.0.0.1:{port}"))


def production_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PROCUREMENT_ENV", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE"} and not k.startswith("PYTEST")
    }
    env.update(
        DATABASE_URL=database_url_of_the_tests(),
        SECRET_KEY="slow-client-test-production-key",
        ALLOWED_HOSTS="127.0.0.1",
        PATH=f"{BASE_DIR / '.venv' / 'bin'}:{env['PATH']}",
    )
    return env


def healthz(port: int, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module", params=["readme", "make run"])
def server(request, django_db_setup):
    """The server on the tests' database (created by django_db_setup), started once per module."""
    port = free_port()
    argv = readme_gunicorn_argv(port) if request.param == "readme" else web_argv("127.0.0.1", port)
    process = subprocess.Popen(
        argv,
        cwd=BASE_DIR,
        env=production_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not healthz(port, 1):
            assert process.poll() is None, f"{argv} exited with {process.returncode}"
            assert time.monotonic() < deadline, f"{argv} did not start"
            time.sleep(0.3)
        time.sleep(2)  # every worker booted
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def send_slowly(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            (
                "POST /portal/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {BODY}\r\n\r\n"
            ).encode()
        )
        for _ in range(BODY):
            if stop.wait(1):
                return
            sock.sendall(b"a")


def test_health_checks_answer_beside_clients_sending_their_bodies_at_one_byte_a_second(server):
    stop = threading.Event()
    clients = [threading.Thread(target=send_slowly, args=(server, stop), daemon=True) for _ in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(3)  # the slow requests are in the app, reading their bodies
        checks = []
        for _ in range(8):
            started = time.monotonic()
            checks.append((healthz(server, timeout=3), round(time.monotonic() - started, 2)))
            time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)
    assert all(ok for ok, _seconds in checks), checks


def test_a_300_mb_login_post_is_refused_before_it_is_sent(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            (
                "POST /portal/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
                '--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
            ).encode()
        )
        sock.sendall(b"\0" * 65536)  # 64 KB of the 300 MB
        started = time.monotonic()
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5

"""Builders for the budget and alert tests: usage priced in whole CNY, a local HTTP sink for
apprise's ``json://`` notifications, and ingestion whose after-commit work runs."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from datetime import date, datetime, time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from billing.metering.ingest import BatchResult, usage_ingest_batch
from billing.models import PriceVersion
from tests.billing.helpers import SHANGHAI, price, usage

METER_PROVIDER = "meter"
METER_MODEL = "spend-meter"
_request_ids = itertools.count(1)


def meter_price() -> PriceVersion:
    """A CNY model at 1,000 CNY per million input tokens: 1,000 input tokens cost exactly 1 CNY."""
    return price(provider=METER_PROVIDER, model=METER_MODEL, input="1000", cached=None, output="0", currency="CNY")


def at(day: date, hour: int = 10) -> str:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).isoformat()


def spend(key_id: str, amount: str | Decimal | int, day: date, *, hour: int = 10, request_id: str = "") -> dict:
    """One gateway record costing ``amount`` CNY (to 0.001) on ``day`` in Shanghai."""
    return usage(
        key_id,
        request_id or f"spend-{next(_request_ids):06d}",
        provider=METER_PROVIDER,
        model=METER_MODEL,
        input_tokens=int(Decimal(amount) * 1000),
        cached_input_tokens=0,
        output_tokens=0,
        occurred_at=at(day, hour),
    )


def ingest_committed(capture, records: list[dict], now: datetime | None = None) -> BatchResult:
    """Ingest inside the test transaction and run what waits for the commit (evaluation,
    deliveries), as the real commit would. ``capture`` is django_capture_on_commit_callbacks."""
    with capture(execute=True):
        result = usage_ingest_batch(records=records, now=now)
    assert result.rejected == [], result.rejected
    return result


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpSink:
    """A local HTTP endpoint standing in for WeCom/DingTalk/Slack: records what it receives
    and answers ``status`` (set it to 500 to make the channel fail)."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._lock:
                    status = sink.status
                    if status == 200:
                        sink.received.append(json.loads(body or b"{}"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        """The apprise URL that posts JSON to this sink."""
        return f"json://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

"""A local fake of the issuing platform, following the format documented in
invoices/backends/nuonuo.py (written from that text, not from the client code).

It checks every request's signature, keeps orders by order number (the idempotency key),
answers queries with a scripted outcome after N polls, files red-letter forms and issues red
invoices, and can answer 500 or stall on demand. Runs in a thread on 127.0.0.1:<random port>.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

OK = "E0000"
SHANGHAI = ZoneInfo("Asia/Shanghai")
FAKE_PDF = b"%PDF-1.4\n% fake platform PDF\n"


@dataclass
class Script:
    """What the platform will answer about one order."""

    polls_before_result: int = 0
    outcome: str = "success"  # success | failure
    message: str = ""


@dataclass
class Order:
    order_no: str
    kind: str  # blue | red
    body: dict[str, Any]
    serial: str
    polls: int = 0
    invoice_no: str = ""
    invoice_date: str = ""


@dataclass
class RedForm:
    bill_no: str
    bill_id: str
    body: dict[str, Any]
    queries: int = 0
    awaiting_for: int = 0  # answers "awaiting" this many more times before "confirmed"
    outcome: str = "confirmed"  # confirmed | rejected


@dataclass
class FakeNuonuo:
    app_key: str = "fake-app-key"
    app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    province: str = "31"
    orders: dict[str, Order] = field(default_factory=dict)
    red_forms: dict[str, RedForm] = field(default_factory=dict)
    scripts: dict[str, Script] = field(default_factory=dict)
    form_scripts: dict[str, dict] = field(default_factory=dict)
    errors: list[tuple[str, int]] = field(default_factory=list)  # (path, HTTP status), answered once each
    stalls: dict[str, float] = field(default_factory=dict)  # path → seconds to sleep before answering
    requests: list[tuple[str, dict]] = field(default_factory=list)
    _sequence: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- server ---------------------------------------------------------------------------

    def start(self) -> FakeNuonuo:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.startswith("/files/"):
                    self._send(200, FAKE_PDF, "application/pdf")
                else:
                    self._send(404, b"", "text/plain")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = fake.handle(self.path, self.headers, body)
                if isinstance(answer, bytes):
                    self._send(status, answer, "text/html")
                else:
                    self._send(status, json.dumps(answer, ensure_ascii=False).encode(), "application/json")

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- the documented protocol ----------------------------------------------------------

    def signature(self, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n".encode() + body
        return base64.b64encode(hmac.new(self.app_secret.encode(), message, hashlib.sha256).digest()).decode()

    def signed(self, path: str, payload: dict, *, secret: str | None = None, age: int = 0) -> tuple[bytes, dict]:
        """A body and headers signed as the platform signs its callbacks."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time()) - age), secrets.token_hex(8)
        key = (secret or self.app_secret).encode()
        message = f"POST\n{path}\n{timestamp}\n{nonce}\n".encode() + body
        sign = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        headers = {
            "X-Nuonuo-AppKey": self.app_key,
            "X-Nuonuo-Timestamp": timestamp,
            "X-Nuonuo-Nonce": nonce,
            "X-Nuonuo-Sign": sign,
        }
        return body, headers

    def handle(self, path: str, headers, body: bytes) -> tuple[int, Any]:
        if headers.get("X-Nuonuo-AppKey") != self.app_key or not hmac.compare_digest(
            headers.get("X-Nuonuo-Sign", ""),
            self.signature(
                "POST", path, headers.get("X-Nuonuo-Timestamp", ""), headers.get("X-Nuonuo-Nonce", ""), body
            ),
        ):
            return 401, {"code": "E9101", "describe": "签名校验失败"}
        payload = json.loads(body)
        with self._lock:
            self.requests.append((path, payload))
            error = next((e for e in self.errors if e[0] == path), None)
            if error is not None:
                self.errors.remove(error)
        if error is not None:
            return error[1], b"<html>502 Bad Gateway</html>"
        if path in self.stalls:
            time.sleep(self.stalls[path])
        routes = {
            "/open/v1/invoices": self.invoice_submit,
            "/open/v1/invoices/query": self.invoice_query,
            "/open/v1/red-confirmations": self.red_form_submit,
            "/open/v1/invoices/red": self.red_invoice_submit,
        }
        if path not in routes:
            return 404, {"code": "E9404", "describe": "no such method"}
        with self._lock:
            return 200, routes[path](payload)

    def _refuse(self, code: str, describe: str) -> dict:
        return {"code": code, "describe": describe}

    def _new_order(self, kind: str, order: dict) -> dict:
        existing = self.orders.get(order["orderNo"])
        if existing is None:
            existing = self.orders[order["orderNo"]] = Order(
                order["orderNo"], kind, order, serial=f"{kind.upper()}{secrets.token_hex(8).upper()}"
            )
        return {
            "code": OK,
            "describe": "受理成功",
            "result": {"orderNo": existing.order_no, "invoiceSerialNum": existing.serial},
        }

    def invoice_submit(self, payload: dict) -> dict:
        order = payload["order"]
        if order.get("invoiceLine") not in ("bs", "pc") or order.get("invoiceType") != "1":
            return self._refuse("E9102", "发票种类有误")
        if not order.get("salerTaxNum") or not order.get("buyerName") or not order.get("invoiceDetail"):
            return self._refuse("E9103", "必填项缺失")
        if order["invoiceLine"] == "bs" and not order.get("buyerTaxNum"):
            return self._refuse("E9106", "专票购方税号不能为空")
        for line in order["invoiceDetail"]:
            amount, rate, tax = (Decimal(line[k]) for k in ("taxExcludedAmount", "taxRate", "tax"))
            if line.get("withTaxFlag") != "0" or abs(tax - amount * rate) > Decimal("0.06"):
                return self._refuse("E9110", "税额误差超出范围")
            if len(line.get("goodsCode", "")) != 19:
                return self._refuse("E9111", "税收分类编码有误")
        return self._new_order("blue", order)

    def invoice_query(self, payload: dict) -> dict:
        items = []
        for order_no in payload["orderNos"]:
            order = self.orders.get(order_no)
            if order is None:
                continue
            script = self.scripts.get(order_no, Script())
            order.polls += 1
            item: dict[str, Any] = {"orderNo": order_no, "status": "processing"}
            if order.polls > script.polls_before_result:
                if script.outcome == "failure":
                    item.update(status="failure", message=script.message or "开票失败")
                else:
                    self._number(order)
                    item.update(
                        status="success",
                        invoiceNo=order.invoice_no,
                        invoiceDate=order.invoice_date,
                        pdfUrl=f"{self.url}/files/{order.invoice_no}.pdf",
                    )
            items.append(item)
        return {"code": OK, "describe": "查询成功", "result": items}

    def _number(self, order: Order) -> None:
        if not order.invoice_no:  # numbered once; every later answer repeats it
            now = datetime.now(SHANGHAI)
            order.invoice_no = f"{now:%y}{self.province}2{next(self._sequence):015d}"
            order.invoice_date = f"{now:%Y-%m-%d %H:%M:%S}"

    def issued(self, invoice_no: str) -> Order | None:
        return next((o for o in self.orders.values() if o.invoice_no == invoice_no), None)

    def red_form_submit(self, payload: dict) -> dict:
        form = payload["redConfirm"]
        blue = self.issued(form.get("blueInvoiceNo", ""))
        if blue is None or blue.kind != "blue":
            return self._refuse("E9201", "蓝字发票不存在")
        if form.get("redReason") not in ("1", "2", "3", "4") or Decimal(form["taxExcludedAmount"]) >= 0:
            return self._refuse("E9202", "红字确认单信息有误")
        existing = self.red_forms.get(form["billNo"])
        if existing is None:
            script = self.form_scripts.get(form["billNo"], {})
            existing = self.red_forms[form["billNo"]] = RedForm(
                form["billNo"], f"RC{secrets.token_hex(6).upper()}", form, **script
            )
        else:
            existing.queries += 1
        if existing.queries < existing.awaiting_for:
            status = "awaiting"
        else:
            status = existing.outcome
        result = {"billNo": existing.bill_no, "billId": existing.bill_id, "status": status}
        if status == "rejected":
            result["message"] = "购方已拒绝"
        return {"code": OK, "describe": "成功", "result": result}

    def red_invoice_submit(self, payload: dict) -> dict:
        order = payload["order"]
        form = self.red_forms.get(order.get("billNo", ""))
        confirmed = form is not None and form.queries >= form.awaiting_for and form.outcome == "confirmed"
        if not confirmed or form.bill_id != order.get("billId") or order.get("invoiceType") != "2":
            return self._refuse("E9203", "红字确认单未确认")
        return self._new_order("red", order)

    def paths(self) -> list[str]:
        return [path for path, _payload in self.requests]

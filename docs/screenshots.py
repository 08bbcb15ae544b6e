"""Screenshots of the admin, the API docs and the PDFs for README's "A tour".

    .venv/bin/python -m docs.screenshots [--base-url http://127.0.0.1:8000] [--token TOKEN]

Run it against a server with the demo data (``make run``, or ``manage.py seed_demo`` and
``runserver``). It logs into the admin as the demo superuser through the login form, in a
1280×800 Chromium (Debian's, /usr/bin/chromium) and writes PNGs into docs/screenshots/.
The bill and invoice PDFs are fetched from the API, with the admin session or, given
``--token`` (or PROCUREMENT_API_TOKEN), a finance token (``manage.py create_api_token
finance``), and page 1 of each is rendered with ``pdftoppm`` (poppler-utils).

Pages that the server does not have (404), a Swagger UI that did not render (its assets
come from a CDN) and data that the demo lacks are skipped with a note; the exit status is 1
only when a screenshot failed. The demo's held draft is ACME's bill for the previous month
(its fine-tuned model has no price since then); the committed bill-held-draft.png was taken
before seed_demo held that bill itself, after ``month_close_customer`` on a throwaway database.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from procurement.demo import DEMO_LOGINS

OUT_DIR = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}
MAX_BYTES = 400 * 1024
MAX_HEIGHT = 2400  # a full-page shot is cut there: the top of a long page tells enough
TIMEOUT_MS = 15_000


def say(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


def previous_period(today: date) -> tuple[date, date]:
    """First day of last month and of this month."""
    this_month = today.replace(day=1)
    return (this_month - date.resolution).replace(day=1), this_month


def save_png(data: bytes, path: Path, max_height: int = MAX_HEIGHT) -> None:
    """Write a PNG of at most MAX_BYTES: 256-colour palette first, then smaller if need be."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if image.height > max_height:
        image = image.crop((0, 0, image.width, max_height))
    while True:
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or image.width < 400:
            break
        image = image.resize((int(image.width * 0.85), int(image.height * 0.85)), Image.Resampling.LANCZOS)
    path.write_bytes(buffer.getvalue())
    say(f"{path.name}: {image.width}×{image.height}, {buffer.tell() // 1024} KB")


class Shooter:
    def __init__(self, page: Page, base_url: str, out_dir: Path, token: str | None):
        self.page = page
        self.base = base_url.rstrip("/")
        self.out = out_dir
        self.token = token
        self.failed: list[str] = []

    def url(self, path: str, **query) -> str:
        return self.base + path + (f"?{urlencode(query)}" if query else "")

    def goto(self, path: str, **query) -> bool:
        response = self.page.goto(self.url(path, **query), wait_until="networkidle")
        if response is None or response.status >= 400:
            say(f"skipped {path}: HTTP {response.status if response else '?'}")
            return False
        return True

    def shot(self, name: str, *, full_page: bool = True, max_height: int = MAX_HEIGHT) -> None:
        try:
            png = self.page.screenshot(full_page=full_page, type="png")
            save_png(png, self.out / f"{name}.png", max_height)
        except Exception as exc:  # one failed shot must not lose the others
            say(f"FAILED {name}: {exc}")
            self.failed.append(name)

    # --- Session and language --------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        self.goto("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit], button[type=submit]:not([name=language])")
        self.page.wait_for_url("**/admin/", timeout=TIMEOUT_MS)

    def set_language(self, code: str) -> None:
        """The switcher in the admin header when there is one, else POST /i18n/setlang/."""
        button = self.page.locator(f"#language-form button[value='{code}']")
        if button.count():
            if button.first.is_enabled():
                with self.page.expect_navigation():
                    button.first.click()
            return
        csrf = next((c["value"] for c in self.page.context.cookies() if c["name"] == "csrftoken"), "")
        self.page.request.post(
            self.url("/i18n/setlang/"),
            form={"language": code, "next": "/admin/"},
            headers={"X-CSRFToken": csrf, "Referer": self.page.url},
        )
        self.page.reload()

    # --- API -----------------------------------------------------------------------------

    def api(self, path: str, **query):
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        response = self.page.request.get(self.url(path, **query), headers=headers)
        if not response.ok:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        return response

    def pdf_page_one(self, name: str, api_path: str) -> None:
        try:
            pdf = self.api(api_path).body()
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / "doc.pdf"
                source.write_bytes(pdf)
                prefix = Path(tmp) / "page"
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source), str(prefix)],
                    check=True,
                )
                save_png(prefix.with_suffix(".png").read_bytes(), self.out / f"{name}.png")
        except Exception as exc:
            say(f"FAILED {name}: {exc}")
            self.failed.append(name)

    # --- The tour ----------------------------------------------------------------------

    def run(self, username: str, password: str) -> None:
        self.login(username, password)
        self.set_language("zh-hans")
        self.shot("admin-home-zh")
        self.set_language("en")
        self.shot("admin-home-en")
        self.set_language("zh-hans")  # the rest in the default language

        self.customer_acme()
        self.staff_pages()

        start, end = previous_period(datetime.now(ZoneInfo("Asia/Shanghai")).date())
        if self.goto("/admin/billing/bill/", period__gte=start.isoformat(), period__lt=end.isoformat()):
            self.shot("bills-previous-month")
        # The bill page: ACME's oldest paid bill has the most to show (payments, events).
        bills = [b for b in self.api("/api/v1/bills/").json() if b["status"] not in ("draft", "void")]
        bills.sort(key=lambda b: (b["customer"] != "ACME", b["status"] != "paid", b["period"]))
        bill = bills[0] if bills else None
        if bill and self.goto(f"/admin/billing/bill/{bill['id']}/change/"):
            self.shot("bill-change", max_height=6000)  # down to the lines and the events
        if self.goto("/admin/billing/bill/", status__exact="draft"):
            rows = self.page.locator("#result_list tbody tr th a")
            if rows.count():
                rows.first.click()
                self.page.wait_for_load_state("networkidle")
                self.shot("bill-held-draft")
            else:
                say("no draft bill in the data: skipped bill-held-draft")

        for name, path in [
            ("invoices", "/admin/invoices/invoice/"),
            ("price-book", "/admin/billing/priceversion/"),
            ("alerts", "/admin/billing/alert/"),
        ]:
            if self.goto(path):
                self.shot(name, full_page=name != "price-book")  # the price book: its first screen

        if self.goto("/api/docs/"):
            try:
                self.page.wait_for_selector(".swagger-ui .opblock", timeout=TIMEOUT_MS)
                self.shot("api-docs", max_height=4000)
            except Exception:
                say("Swagger UI did not render (its assets come from a CDN unless served locally): skipped api-docs")

        if bill:
            self.pdf_page_one("bill-pdf", f"/api/v1/bills/{bill['number']}/pdf/")
        invoices = [i for i in self.api("/api/v1/invoices/").json() if i["color"] == "blue" and i["status"] == "issued"]
        invoices.sort(key=lambda i: (i["customer"] != "ACME", i["number"]))
        if invoices:
            self.pdf_page_one("invoice-pdf", f"/api/v1/invoices/{invoices[0]['number']}/pdf/")
        else:
            say("no issued invoice in the data: skipped invoice-pdf")

    def staff_pages(self) -> None:
        """The finance workspace: the dashboard in both languages, and the reconciliation of
        the previous month after uploading a provider export through its form. The demo has
        no provider exports, so one is made from our own metering of that month: the
        provider's tokens within ±0.6 % of ours (one model 2 % above, to show a flagged row)
        and a cost of about 70 % of what we billed."""
        if not self.goto("/staff/"):
            return
        self.shot("staff-dashboard-zh")
        self.set_language("en")
        self.shot("staff-dashboard-en")
        self.set_language("zh-hans")
        start, _end = previous_period(datetime.now(ZoneInfo("Asia/Shanghai")).date())
        period = start.strftime("%Y-%m")
        models = [
            m for m in self.api("/api/v1/reconciliation/", period=period).json()["models"] if m["provider"] == "openai"
        ]
        if not self.goto("/staff/reconciliation/", period=period) or not models:
            say("no OpenAI usage last month: skipped staff-reconciliation-zh")
            return
        day = int(datetime(start.year, start.month, 15, tzinfo=ZoneInfo("UTC")).timestamp())
        usage, costs = [], []
        for index, row in enumerate(models):
            factor = Decimal("1.02") if index == 0 else Decimal("1") + Decimal(index % 3 - 1) * Decimal("0.006")
            metered = row["metered"]
            usage.append(
                {
                    "object": "organization.usage.completions.result",
                    "model": row["model"],
                    "input_tokens": int(metered["input_tokens"] * factor),
                    "input_cached_tokens": metered["cached_input_tokens"],
                    "output_tokens": int(metered["output_tokens"] * factor),
                    "num_model_requests": metered["requests"],
                }
            )
            cost = (Decimal(row["revenue"]) * Decimal("0.7") / Decimal("7.1")).quantize(Decimal("0.000001"))
            costs.append({"amount": {"value": str(cost), "currency": "usd"}, "line_item": f"{row['model']}, input"})
        for name, results in (("usage", usage), ("costs", costs)):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"openai-{name}-{period}.json"
                body = {"object": "page", "data": [{"object": "bucket", "start_time": day, "results": results}]}
                path.write_text(
                    json.dumps(body).replace('"value": "', '"value": ').replace('", "currency"', ', "currency"')
                )
                self.page.select_option("#id_provider", "openai")
                self.page.set_input_files("#id_file", str(path))
                with self.page.expect_navigation():
                    self.page.click("#upload-submit")
        self.shot("staff-reconciliation-zh", max_height=4000)

    def customer_acme(self) -> None:
        if not self.goto("/admin/customers/customer/", q="ACME"):
            return
        link = self.page.locator("#result_list tbody tr th a").first
        link.click()
        self.page.wait_for_load_state("networkidle")
        self.shot("customer-acme")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--token", default=os.environ.get("PROCUREMENT_API_TOKEN"), help="a finance API token")
    args = parser.parse_args(argv)

    username, password, _who = DEMO_LOGINS[0]
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # zh-CN first in Accept-Language, as for the back office's users.
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", device_scale_factor=1)
            context.set_default_timeout(TIMEOUT_MS)
            # The admin's app sidebar collapsed: the pages get the whole width.
            context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
            shooter = Shooter(context.new_page(), args.base_url, args.out, args.token)
            shooter.run(username, password)
        finally:
            browser.close()
    if shooter.failed:
        say(f"failed: {', '.join(shooter.failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

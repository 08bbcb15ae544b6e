"""The "records (CSV)" links in a real browser: ACME's admin downloads the records behind a
bill line and behind a row of the usage page, and gets the API's file for the same figure."""

from __future__ import annotations

from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from tests.billing.test_record_exports import november_world
from tests.browser.helpers import portal_sign_in
from tests.portal.conftest import PASSWORD

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def world(transactional_db, acme, other_customer, alice):
    return november_world(acme, other_customer)


def _download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def api_file(client, url: str) -> bytes:
    return b"".join(client.get(url).streaming_content)


def test_the_admin_downloads_a_lines_and_a_rows_records(page, live_server, world, alice_client):
    base = live_server.url
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    portal_sign_in(page, base, "alice", PASSWORD)

    page.goto(f"{base}/portal/bills/{world.number}/")
    links = page.locator("#bill-lines a.records-csv")
    usage_lines = list(world.lines.filter(kind__in=("usage", "adjustment")).order_by("position"))
    expect(links).to_have_count(len(usage_lines))
    line = usage_lines[-1]
    name, content = _download(page, links.nth(len(usage_lines) - 1))
    assert name == f"records-{world.number}-line{line.position}.csv"
    assert content == api_file(alice_client, f"/api/v1/bills/{world.number}/lines/{line.position}/records/")
    assert content.count(b"\n") == line.requests + 1

    page.goto(f"{base}/portal/usage/?period=2026-11&group_by=project")
    row = page.locator('#usage-table tr[data-key="search"]')
    name, content = _download(page, row.locator("a.records-csv"))
    assert name == "records-ACME-2026-11-project-search.csv"
    expected = api_file(alice_client, "/api/v1/usage-records/?period=2026-11&group_by=project&key=search")
    assert content == expected and content.count(b"\n") == 10 + 1  # 4 web-search calls and 6 gpt-4o calls

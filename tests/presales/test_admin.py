"""The presales admin: estimates (with their requirement) and proposals read-only for finance
and presales, linked to the staff pages."""

from __future__ import annotations

import pytest

from presales.models import Estimate, Proposal
from tests.presales.conftest import ESTIMATES_URL, goods_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(presales_client, price_book, usd_rate):
    estimate = presales_client.post(ESTIMATES_URL, goods_request(), format="json").json()
    body = {
        "valid_until": "2099-12-31",
        "chosen": [{"workload": "商品描述", "provider": "openai", "model": "gpt-4o"}],
    }
    presales_client.post(f"{ESTIMATES_URL}{estimate['id']}/proposals/", body, format="json")
    return Proposal.objects.get()


@pytest.mark.parametrize("who", ["presales_user", "finance_user"])
def test_estimates_and_proposals_open_read_only_with_links_to_the_staff_pages(client, request, proposal, who):
    client.force_login(request.getfixturevalue(who))
    estimate = Estimate.objects.get()

    listing = client.get("/admin/presales/estimate/")
    page = client.get(f"/admin/presales/estimate/{estimate.pk}/change/")
    proposal_page = client.get(f"/admin/presales/proposal/{proposal.pk}/change/")

    assert listing.status_code == 200
    assert "杭州云栖电商有限公司" in listing.content.decode()
    body = page.content.decode()
    assert f"/staff/presales/estimates/{estimate.pk}/" in body
    assert "商品描述" in body  # the requirement's workload, inline
    assert 'name="_save"' not in body  # view only
    assert f"/staff/presales/proposals/{proposal.number}/pdf/?version=1" in proposal_page.content.decode()
    assert client.get("/admin/presales/estimate/add/").status_code == 403


def test_presales_reads_templates_but_finance_edits_them(client, presales_user, finance_user):
    client.force_login(presales_user)
    assert client.get("/admin/presales/proposaltemplate/").status_code == 200
    assert client.get("/admin/presales/proposaltemplate/add/").status_code == 403
    client.force_login(finance_user)
    assert client.get("/admin/presales/proposaltemplate/add/").status_code == 200

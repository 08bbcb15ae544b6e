"""Issue 21 item 10: the free text of a proposal is bounded (model, API, staff form), and a
version's PDF is rendered once and then served from storage — versions never change.
Item 13: the names printed on the proposal refuse control and format characters."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from presales import documents
from presales.models import NOTES_MAX, SCENARIO_MAX, Estimate, ProposalTemplate, ProposalVersion
from presales.proposals import Choice, proposal_version_create
from tests.billing.helpers import SHANGHAI
from tests.presales.conftest import ESTIMATES_URL, goods_request
from tests.presales.test_proposals import CHOOSE_MINI, pdf_text, propose

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def estimate_id(presales_client, price_book, usd_rate):
    return presales_client.post(ESTIMATES_URL, goods_request(), format="json").json()["id"]


def test_notes_over_the_limit_are_refused_by_the_api_naming_the_field(presales_client, estimate_id):
    response = propose(presales_client, estimate_id, notes="注" * (NOTES_MAX + 1))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["notes"]
    assert not ProposalVersion.objects.exists()
    assert propose(presales_client, estimate_id, notes="注" * NOTES_MAX).status_code == 201


def test_notes_over_the_limit_are_refused_by_the_service(presales_client, estimate_id):
    with pytest.raises(ValidationError) as caught:
        proposal_version_create(
            estimate=Estimate.objects.get(pk=estimate_id),
            valid_until=NOW.date().replace(month=12),
            chosen=[Choice("商品描述", "openai", "gpt-4o-mini")],
            notes="x" * (NOTES_MAX + 1),
        )
    assert "notes" in caught.value.message_dict
    assert not ProposalVersion.objects.exists()


def test_a_long_scenario_is_refused_naming_the_field(presales_client, price_book, usd_rate):
    response = presales_client.post(ESTIMATES_URL, goods_request(scenario="s" * (SCENARIO_MAX + 1)), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["scenario"]
    assert not Estimate.objects.exists()


def test_template_text_is_bounded_in_the_model():
    template = ProposalTemplate(name="长", sla_text="x" * 10_001, support_text="s", terms_text="t")
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert list(caught.value.message_dict) == ["sla_text"]


def test_the_staff_form_bounds_the_notes():
    from presales.forms import ProposalForm

    form = ProposalForm(
        {"valid_until": "2026-12-31", "payment_terms_days": 30, "invoice_type": "special", "notes": "n" * 2001}
    )
    assert not form.is_valid()
    assert "notes" in form.errors


@pytest.mark.parametrize("character", ["\u202e", "\u200b", "\x07"])
@pytest.mark.parametrize("where", ["prospect", "workload"])
def test_printed_names_of_an_estimate_refuse_invisible_characters(
    presales_client, price_book, usd_rate, where, character
):
    body = goods_request()
    if where == "prospect":
        body["prospect"] = f"杭州{character}云栖"
    else:
        body["workloads"][0]["name"] = f"商品{character}描述"

    response = presales_client.post(ESTIMATES_URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    field = "prospect" if where == "prospect" else "workloads[0].name"
    assert list(errors) == [field], errors
    assert f"U+{ord(character):04X}" in errors[field][0]
    assert not Estimate.objects.exists()


def test_the_pdf_is_rendered_once_and_then_served_from_storage(presales_client, estimate_id, monkeypatch):
    number = propose(presales_client, estimate_id, chosen=CHOOSE_MINI, notes="首月试用").json()["number"]
    renders = []
    real_render = documents.proposal_pdf_render
    monkeypatch.setattr(
        documents, "proposal_pdf_render", lambda version: renders.append(version.pk) or real_render(version)
    )

    first = presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/")
    second = presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/")

    assert first.status_code == second.status_code == 200
    assert len(renders) == 1
    assert first.content == second.content
    assert "首月试用" in pdf_text(second.content)
    version = ProposalVersion.objects.get(proposal__number=number)
    assert version.pdf.name.endswith(".pdf")
    with version.pdf.open("rb") as stored:
        assert stored.read() == first.content


def test_a_lost_pdf_file_is_rendered_again(presales_client, estimate_id):
    number = propose(presales_client, estimate_id, chosen=CHOOSE_MINI).json()["number"]
    presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/")
    version = ProposalVersion.objects.get(proposal__number=number)
    version.pdf.storage.delete(version.pdf.name)

    response = presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/")

    assert response.status_code == 200
    assert number in pdf_text(response.content)


def test_the_proposal_pdf_is_private_no_store(presales_client, estimate_id, presales_user, client):
    number = propose(presales_client, estimate_id, chosen=CHOOSE_MINI).json()["number"]
    client.force_login(presales_user)
    for response in (
        presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/"),
        client.get(f"/staff/presales/proposals/{number}/pdf/"),
    ):
        assert response.status_code == 200
        assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}

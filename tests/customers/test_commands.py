"""create_api_token and create_gateway_token: the token alone on the last stdout line, and it works."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from customers.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(output: str) -> str:
    return output.rstrip("\n").split("\n")[-1]


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_it_prints_a_working_token_for_a_finance_user(finance_user, acme):
    out, err = run("create_api_token", "fiona")

    token = last_line(out)
    assert token.startswith("pc_")
    assert token.strip() == token and " " not in token
    assert "shown once" in err
    response = client_with(token).get("/api/v1/customers/")
    assert response.status_code == 200
    assert [c["code"] for c in response.json()] == ["ACME"]
    assert ApiToken.objects.get(user=finance_user).name == "cli"


def test_it_prints_a_token_for_a_portal_user_that_sees_only_their_customer(alice, acme, other_customer):
    out, _err = run("create_api_token", "alice", "--name", "laptop")

    client = client_with(last_line(out))
    assert [c["code"] for c in client.get("/api/v1/customers/").json()] == ["ACME"]
    assert client.get("/api/v1/customers/OTHER/").status_code == 404
    assert ApiToken.objects.get(user=alice).name == "laptop"


def test_it_prints_a_token_for_presales(presales_user):
    out, _err = run("create_api_token", "pete")

    # Presales is staff but not finance: authenticated, yet no finance endpoints.
    assert client_with(last_line(out)).get("/api/v1/customers/").status_code == 403


def test_it_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="nobody"):
        run("create_api_token", "nobody")
    assert not ApiToken.objects.exists()


def test_it_refuses_a_user_with_no_role(db):
    UserFactory(username="drifter")

    with pytest.raises(CommandError, match="create_gateway_token"):
        run("create_api_token", "drifter")
    assert not ApiToken.objects.exists()


def test_it_refuses_a_disabled_user(finance_user):
    finance_user.is_active = False
    finance_user.save()

    with pytest.raises(CommandError, match="disabled"):
        run("create_api_token", "fiona")


def test_it_prints_a_gateway_token_that_finance_endpoints_refuse(acme):
    out, err = run("create_gateway_token", "edge-1")

    token = last_line(out)
    assert token.startswith("pc_")
    assert "gateway-edge-1" in err
    user = User.objects.get(username="gateway-edge-1")
    assert list(user.groups.values_list("name", flat=True)) == ["gateway"]
    assert not user.has_usable_password()
    client = client_with(token)
    assert client.get("/api/v1/customers/").status_code == 403
    assert client.get("/api/v1/customers/ACME/").status_code == 403
    assert client.post("/api/v1/customers/", {"code": "GW", "name": "x"}, format="json").status_code == 403
    assert client.get("/api/v1/customers/ACME/contracts/").status_code == 403


def test_it_gives_a_gateway_a_new_token_each_time_and_both_work(db):
    first = last_line(run("create_gateway_token", "edge-1")[0])
    second = last_line(run("create_gateway_token", "gateway-edge-1")[0])

    assert first != second
    assert User.objects.filter(username__startswith="gateway-").count() == 1
    for token in (first, second):
        # Authenticated (403 on a finance endpoint, not 401).
        assert client_with(token).get("/api/v1/customers/").status_code == 403


def test_it_does_not_turn_an_existing_user_into_a_gateway(finance_user):
    UserFactory(username="gateway-sneaky", groups=["finance"])

    with pytest.raises(CommandError, match="gateway-sneaky"):
        run("create_gateway_token", "sneaky")
    assert not User.objects.get(username="gateway-sneaky").groups.filter(name="gateway").exists()


def test_it_refuses_a_blank_gateway_name(db):
    with pytest.raises(CommandError):
        run("create_gateway_token", "  ")

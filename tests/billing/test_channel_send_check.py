"""Issue 16 item 3, at send time: before a worker sends to a channel a customer set, the hosts
the service would call are resolved, and every address must be public (no loopback, private,
link-local — cloud metadata —, reserved); the customer reads a generic error, our log the
reason. Channels our staff set may point at our own systems.

Resolution is faked (socket.getaddrinfo patched): the service's public hosts "resolve" to a
local listener, which must receive nothing from a customer's channel, and does receive the
connection of a staff channel (so the fake does route the sends there)."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import date
from decimal import Decimal

import pytest

from billing.budgets.alerts import CUSTOMER_DELIVERY_ERROR, alert_deliver, channel_test_send
from billing.budgets.budgets import budget_create, budget_update
from billing.budgets.channels import ChannelRefused, check_before_send
from billing.models import Alert, AlertDelivery, Budget

pytestmark = pytest.mark.django_db

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"  # calls hooks.slack.com
WECOM = "wecombot://acme-bot-key"  # calls qyapi.weixin.qq.com
SERVICE_HOSTS = {"hooks.slack.com", "slack.com", "qyapi.weixin.qq.com"}


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._server.close()


@pytest.fixture
def listener():
    served = Listener()
    yield served
    served.close()


def resolve_to(monkeypatch, *addresses: str, port: int = 443) -> list[str]:
    """The services' hosts resolve to ``addresses`` (at ``port``); any other name as usual.
    Returns the list of names asked, to show the check did resolve."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host, service_port, *args, **kwargs):
        if host in SERVICE_HOSTS:
            asked.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (a, port, 0, 0) if ":" in a else (a, port),
                )
                for a in addresses
            ]
        return real(host, service_port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def budget_of(customer, channel: str, *, staff: bool) -> Budget:
    return budget_create(
        customer=customer, scope="customer", target=None, monthly_amount=Decimal("100"), channels=[channel], staff=staff
    )


def delivery_to(customer, budget: Budget, channel: str) -> AlertDelivery:
    alert = Alert.objects.create(
        customer=customer,
        budget=budget,
        kind=Alert.Kind.THRESHOLD,
        threshold=50,
        period=date(2026, 11, 1),
        amount=Decimal("50.00"),
        message="ACME: half the budget is spent.",
        dedupe_key=f"send-check:{budget.pk}:{channel}",
    )
    return AlertDelivery.objects.create(alert=alert, channel=channel)


@pytest.mark.parametrize("channel", [SLACK, WECOM])
def test_an_alert_to_a_customers_channel_resolving_to_loopback_is_not_sent(
    acme, listener, monkeypatch, caplog, channel
):
    asked = resolve_to(monkeypatch, "127.0.0.1", port=listener.port)
    delivery = delivery_to(acme, budget_of(acme, channel, staff=False), channel)
    with caplog.at_level(logging.WARNING, logger="billing.budgets.alerts"), pytest.raises(ChannelRefused):
        alert_deliver(delivery_id=delivery.pk)
    assert asked, "the check resolved the service's host"
    assert listener.connections == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (AlertDelivery.Status.FAILED, 1)
    assert delivery.last_error == CUSTOMER_DELIVERY_ERROR == "the channel could not be reached"
    assert "resolves to 127.0.0.1, not a public address" in caplog.text


def test_the_customer_reads_the_generic_error_in_the_api(acme, alice_client, listener, monkeypatch):
    resolve_to(monkeypatch, "127.0.0.1", port=listener.port)
    delivery = delivery_to(acme, budget_of(acme, SLACK, staff=False), SLACK)
    with pytest.raises(ChannelRefused):
        alert_deliver(delivery_id=delivery.pk)
    [alert] = alice_client.get("/api/v1/alerts/").json()
    assert alert["deliveries"] == [
        {"channel": SLACK, "status": "failed", "attempts": 1, "error": "the channel could not be reached"}
    ]


def test_the_same_channel_set_by_staff_is_sent_to_the_resolved_address(acme, listener, monkeypatch):
    # The control: the fake resolution does route the send to the listener, so its
    # "nothing received" above is the check's doing.
    resolve_to(monkeypatch, "127.0.0.1", port=listener.port)
    delivery = delivery_to(acme, budget_of(acme, SLACK, staff=True), SLACK)
    with pytest.raises(RuntimeError):  # the listener closes the connection: not delivered
        alert_deliver(delivery_id=delivery.pk)
    assert listener.connections >= 1
    delivery.refresh_from_db()
    assert delivery.last_error != CUSTOMER_DELIVERY_ERROR  # staff read the reason
    assert delivery.last_error.startswith("RuntimeError: ")


def test_the_send_test_to_a_customers_channel_is_refused_the_same_way(acme, listener, monkeypatch, caplog):
    resolve_to(monkeypatch, "127.0.0.1", port=listener.port)
    budget = budget_of(acme, WECOM, staff=False)
    with caplog.at_level(logging.WARNING, logger="billing.budgets.alerts"):
        assert channel_test_send(budget=budget, channel=WECOM) is False
    assert listener.connections == 0
    assert "qyapi.weixin.qq.com resolves to 127.0.0.1" in caplog.text


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.7"],
        ["192.168.1.20"],
        ["169.254.169.254"],  # cloud metadata
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["fe80::1"],
        ["240.0.0.1"],  # reserved
        ["203.0.113.9", "127.0.0.1"],  # one public address does not excuse an internal one
    ],
)
def test_any_resolved_address_that_is_not_public_refuses_the_channel(monkeypatch, addresses):
    resolve_to(monkeypatch, *addresses)
    with pytest.raises(ChannelRefused, match="not a public address"):
        check_before_send(SLACK)


def test_a_channel_whose_hosts_resolve_to_public_addresses_passes(monkeypatch):
    asked = resolve_to(monkeypatch, "151.101.1.1", "2a04:4e42::1")
    assert check_before_send(SLACK) is None
    assert asked == ["hooks.slack.com", "slack.com"]


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(ChannelRefused, match="does not resolve"):
        check_before_send(WECOM)


def test_a_customer_url_kept_before_the_entry_rule_is_refused_without_resolving(monkeypatch):
    asked = resolve_to(monkeypatch, "203.0.113.9")
    with pytest.raises(ChannelRefused, match="internal or private address"):
        check_before_send("json://127.0.0.1:8124/probe")
    assert asked == []


def test_an_email_channel_is_not_resolved(monkeypatch):
    asked = resolve_to(monkeypatch, "127.0.0.1")
    assert check_before_send("ops@acme.example.cn") is None
    assert asked == []


def test_the_budget_remembers_who_set_its_channels(acme):
    budget = budget_of(acme, "json://10.1.2.3/hook", staff=True)
    assert budget.channels_by_staff is True
    terms = {
        "scope": "customer",
        "target": None,
        "monthly_amount": Decimal("100"),
        "currency": "CNY",
        "thresholds": [50],
        "hard_limit": False,
    }
    budget_update(budget=budget, channels=[SLACK], **terms)  # the customer edits it
    budget.refresh_from_db()
    assert (budget.channels, budget.channels_by_staff) == ([SLACK], False)

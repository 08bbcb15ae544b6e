"""The staff groups get their admin permissions after migrate, without a superuser's help."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/billing/bill/",
        "/admin/billing/payment/",
        "/admin/billing/priceversion/",
        "/admin/billing/alert/",
        "/admin/invoices/invoice/",
        "/admin/customers/customer/",
        "/admin/django_celery_beat/periodictask/",
    ],
)
def test_it_lets_a_finance_clerk_use_the_admin(client, url):
    clerk = UserFactory(username="clerk", is_staff=True, groups=["finance"])
    client.force_login(clerk)

    assert client.get(url).status_code == 200


def test_it_lets_presales_read_the_price_book_but_not_bills(client):
    engineer = UserFactory(username="eng", is_staff=True, groups=["presales"])
    client.force_login(engineer)

    assert client.get("/admin/billing/priceversion/").status_code == 200
    assert client.get("/admin/billing/bill/").status_code == 403

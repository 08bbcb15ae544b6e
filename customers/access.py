"""Who may see and change what. Every view starts from "the objects this user may see".

Staff in group ``finance`` (and superusers) see every customer. A portal user sees its
own customer only: another customer's objects answer 404, never 403, so their existence
is not revealed. Within its own customer, the role decides (``NotAllowed``: the API's 403,
a page's 403). The API's permission classes over these rules are in ``customers.permissions``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from common.errors import NotAllowed
from customers.models import Customer, PortalUser

FINANCE = "finance"
PRESALES = "presales"
GATEWAY = "gateway"

READ_USAGE_ROLES = frozenset(PortalUser.Role.values)  # admin, finance, developer
MONEY_ROLES = frozenset({PortalUser.Role.ADMIN, PortalUser.Role.FINANCE})
MANAGE_ROLES = frozenset({PortalUser.Role.ADMIN})


def _groups(user) -> frozenset[str]:
    cached = getattr(user, "_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.is_authenticated else frozenset()
        user._group_names = cached
    return cached


def is_finance(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or FINANCE in _groups(user)))


def is_presales(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or PRESALES in _groups(user)))


def is_gateway(user) -> bool:
    return bool(user.is_authenticated and GATEWAY in _groups(user))


def portal_membership(user) -> PortalUser | None:
    if not user.is_authenticated:
        return None
    try:
        return user.portal
    except PortalUser.DoesNotExist:
        return None


def visible_customers(user) -> QuerySet[Customer]:
    if is_finance(user):
        return Customer.objects.all()
    membership = portal_membership(user)
    if membership is None:
        return Customer.objects.none()
    return Customer.objects.filter(pk=membership.customer_id)


def customer_scoped(user, queryset: QuerySet, *, roles: frozenset[str], refusal: str) -> QuerySet:
    """``queryset`` (rows with a ``customer``) narrowed to what ``user`` may read: all of it for
    finance; their own customer's rows for a portal user with one of ``roles`` (another role:
    403 saying ``refusal``); nothing for anyone else."""
    if is_finance(user):
        return queryset
    membership = portal_membership(user)
    if membership is None:
        return queryset.none()
    if membership.role not in roles:
        raise NotAllowed(refusal)
    return queryset.filter(customer_id=membership.customer_id)


def customer_for(user, code: str, *, roles: frozenset[str]) -> Customer:
    """The customer ``code`` if ``user`` may act on it with one of ``roles``.

    Finance may always; a portal user of that customer needs a role in ``roles`` (403);
    anyone else gets 404.
    """
    if is_finance(user):
        try:
            return Customer.objects.get(code=code.upper())
        except Customer.DoesNotExist:
            raise Http404 from None
    membership = portal_membership(user)
    if membership is None or membership.customer.code != code.upper():
        raise Http404
    if membership.role not in roles:
        raise NotAllowed()
    return membership.customer

"""Who may open a portal page: the one decorator every portal view wears.

A portal page serves the signed-in user's own customer only (``request.portal`` is their
:class:`~customers.models.PortalUser`). Signed out → the portal's login; staff without a
portal membership → the admin (CONTRACT "Customer portal"); a role that may not use the
page → 403 written for the reader. Objects of another customer are looked up through the
customer-scoped selectors and answer 404, so their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.shortcuts import redirect

from common.shells import CUSTOMERS, page_view
from common.shells import forbidden as shell_forbidden
from customers.access import READ_USAGE_ROLES, portal_membership


def forbidden(request, message: str | None = None):
    """The 403 page, in the reader's language, inside the portal's shell."""
    return shell_forbidden(request, CUSTOMERS, message)


def portal_view(roles: Iterable[str] = READ_USAGE_ROLES) -> Callable:
    """Let ``view`` run for a signed-in portal user whose role is one of ``roles``."""
    allowed = frozenset(roles)

    def admit(request):
        membership = portal_membership(request.user)
        if membership is None:
            return redirect("admin:index") if request.user.is_staff else False
        request.portal = membership  # the 403 page too shows their customer and sections
        return membership.role in allowed

    def decorator(view: Callable) -> Callable:
        wrapped = page_view(CUSTOMERS, admit)(view)
        wrapped.portal_roles = allowed  # read by the URL sweep test
        return wrapped

    return decorator

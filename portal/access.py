"""Who may open a portal page: the one decorator every portal view wears.

A portal page serves the signed-in user's own customer only (``request.portal`` is their
:class:`~customers.models.PortalUser`). Signed out → the portal's login; staff without a
portal membership → the admin (CONTRACT "Customer portal"); a role that may not use the
page → 403 written for the reader. Objects of another customer are looked up through the
customer-scoped selectors and answer 404, so their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse

from customers.access import READ_USAGE_ROLES, portal_membership


def forbidden(request, message: str | None = None):
    """The 403 page, in the reader's language, inside the portal's frame."""
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def portal_view(roles: Iterable[str] = READ_USAGE_ROLES) -> Callable:
    """Let ``view`` run for a signed-in portal user whose role is one of ``roles``."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("portal:login"))
            membership = portal_membership(user)
            if membership is None:
                if user.is_staff:
                    return redirect("admin:index")
                return forbidden(request)
            if membership.role not in allowed:
                return forbidden(request)
            request.portal = membership
            return view(request, *args, **kwargs)

        wrapped.portal_roles = allowed  # read by the URL sweep test
        return wrapped

    return decorator

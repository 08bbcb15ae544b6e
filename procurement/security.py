"""The Content-Security-Policy every answer carries (Django 5.2 has no CSP of its own).

Scripts only from this site: the admin ships no inline scripts, the portal's few lines of
behaviour are static files, and Swagger UI is served split (``SpectacularSwaggerSplitView``:
its start-up script is a URL, not inline). Inline *styles* stay allowed — the admin's
``style=`` attributes and Swagger UI's need them, and they cannot run code. ``frame-ancestors
'none'`` repeats X-Frame-Options: DENY for browsers that read only CSP.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.utils.cache import patch_cache_control

DEFAULT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_header(policy: dict[str, str]) -> str:
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy_header(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY))

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response


class ProxySchemeMiddleware:
    """Behind the TLS proxy, the proxy says which requests came in over plain HTTP.

    Django's SSL redirect (SECURE_SSL_REDIRECT with SECURE_PROXY_SSL_HEADER) sends every
    request without ``X-Forwarded-Proto: https`` to HTTPS. A request that carries no such
    header did not come through the proxy at all — a probe, a job or a check on the host or
    inside the network, talking to the app server directly — and there is no HTTPS for it to
    be sent to. So only a request the proxy marks ``http`` is redirected; one without the
    header is taken as it came: plain HTTP (no HSTS, CSRF's HTTP rules, ``http://`` links).
    A request is HTTPS only when the proxy says so. (The proxy must set or overwrite the
    header on every request, as the deployment section says.)

    Django's SecurityMiddleware has no per-request exemption, so this runs in two places:
    before it, a request without the header is marked HTTPS for its redirect check only
    (``MARK``); right after it, ``DirectRequestMiddleware`` takes the mark off again.
    """

    HEADER = "HTTP_X_FORWARDED_PROTO"
    MARK = "procurement.direct_request"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.HEADER not in request.META:
            request.META[self.HEADER] = "https"
            request.META[self.MARK] = True
        return self.get_response(request)


class DirectRequestMiddleware:
    """Right after SecurityMiddleware: a request that came to the app server directly (no
    ``X-Forwarded-Proto``; see ``ProxySchemeMiddleware``) is plain HTTP again, as it came."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.pop(ProxySchemeMiddleware.MARK, False):
            del request.META[ProxySchemeMiddleware.HEADER]
        return self.get_response(request)


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every answer the app makes (the one place
    for it): portal pages, exports, API answers, document downloads and the proposal PDF
    are a signed-in account's, and no shared cache or browser history may keep them. An
    answer that sets its own Cache-Control (``never_cache``) keeps it. Static files are
    answered by WhiteNoise before this and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response.headers:
            patch_cache_control(response, private=True, no_store=True)
        return response


class StaffSessionMiddleware:
    """A shorter idle session for staff: a signed-in staff member's session ends after
    STAFF_SESSION_IDLE_SECONDS without a request (each request starts the time again);
    everybody else's after SESSION_COOKIE_AGE. Sessions of API tokens are not touched."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.idle = int(getattr(settings, "STAFF_SESSION_IDLE_SECONDS", 3600))

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is not None
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and session.get("_auth_user_id") == str(user.pk)
        ):
            session.set_expiry(self.idle)
        return response


def client_address(request) -> str | None:
    """The client's address behind TRUSTED_PROXY_COUNT proxies (django-axes's
    AXES_CLIENT_IP_CALLABLE, so a lock-out is per username and the *client's* address).

    Each trusted proxy appends the address it was connected from to ``X-Forwarded-For``,
    so with N proxies the client is the N-th entry from the right; what a client wrote into
    the header itself stays to the left of it and is never read. A request with fewer entries
    did not come through the proxies (a check from inside the network): its connecting
    address counts. With 0 (the default outside production) the header is ignored.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate.strip("[]")))
    except ValueError:
        return remote

"""The Content-Security-Policy every answer carries (Django 5.2 has no CSP of its own).

Scripts only from this site: the admin ships no inline scripts, the portal's few lines of
behaviour are static files, and Swagger UI is served split (``SpectacularSwaggerSplitView``:
its start-up script is a URL, not inline). Inline *styles* stay allowed — the admin's
``style=`` attributes and Swagger UI's need them, and they cannot run code. ``frame-ancestors
'none'`` repeats X-Frame-Options: DENY for browsers that read only CSP.
"""

from __future__ import annotations

from django.conf import settings

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

"""Issuing backends behind one interface.

* ``local`` (default): numbers the invoice from the gapless counter and renders it itself.
* ``manual``: finance issues on the tax bureau's site, then records the number and uploads
  the platform's PDF/OFD (admin or API); the invoice stays ``pending`` until then.
* ``nuonuo``: a certified provider's asynchronous API (submit with our order number as the
  idempotency key, then poll or receive a callback); see ``invoices.backends.nuonuo``.

The backend is chosen by the optional ``INVOICE_BACKEND`` setting (environment variable).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "local": "invoices.backends.local.LocalBackend",
    "manual": "invoices.backends.manual.ManualBackend",
    "nuonuo": "invoices.backends.nuonuo.NuonuoBackend",
}


def get_backend(name: str | None = None):
    name = name or getattr(settings, "INVOICE_BACKEND", "local")
    return import_string(BACKENDS[name])()

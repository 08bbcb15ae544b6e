"""Who may open a finance page (/staff/…): finance staff (group ``finance``) and superusers.

The staff shell's rule (common.shells): signed out → the admin's login with ``next``;
signed in without the finance group (presales staff, portal users) → 403 in the staff shell.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from common.shells import STAFF, page_view
from customers.access import is_finance

FINANCE_ONLY = _(
    "These pages are for finance staff. Ask an administrator to add you to the finance group if you need them."
)

finance_view = page_view(STAFF, lambda request: is_finance(request.user), message=FINANCE_ONLY)

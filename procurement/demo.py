"""Demo accounts created by `manage.py seed_demo` and printed by `make run`.

Only for the local demo: `seed_demo` refuses to create them when DEBUG is off unless
asked with --force.
"""

DEMO_LOGINS = [
    # (username, password, who)
    ("admin", "admin-demo-2026", "superuser / 超级管理员"),
    ("finance", "finance-demo-2026", "finance staff / 财务"),
    ("presales", "presales-demo-2026", "presales engineer / 售前"),
    ("acme-admin", "portal-demo-2026", "customer portal user, ACME admin / 客户管理员"),
    ("acme-finance", "portal-demo-2026", "customer portal user, ACME finance / 客户财务"),
    ("acme-dev", "portal-demo-2026", "customer portal user, ACME developer / 客户开发者"),
]
# The demo customer's portal login, printed beside the portal's URL in the banner.
DEMO_PORTAL_USERNAME = "acme-admin"

"""/portal/ — the customer self-service portal (CONTRACT "Customer portal")."""

from django.urls import path

from portal.views import alerts, auth, budgets, home, keys, users

app_name = "portal"

urlpatterns = [
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.PortalLogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    # --- overview, usage, bills, invoices (one section per module in portal/views/) ---
    # --- keys, budgets, alerts, users ---
    path("keys/", keys.keys, name="keys"),
    path("keys/<str:key_id>/revoke/", keys.key_revoke, name="key-revoke"),
    path("budgets/", budgets.budgets, name="budgets"),
    path("budgets/<int:pk>/", budgets.budget_edit, name="budget-edit"),
    path("budgets/<int:pk>/test/", budgets.budget_test, name="budget-test"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("users/", users.users, name="users"),
    path("users/<int:pk>/role/", users.user_role, name="user-role"),
    path("users/<int:pk>/active/", users.user_active, name="user-active"),
    path("invitation/<uidb64>/<token>/", users.InvitationView.as_view(), name="invitation"),
]

"""/portal/ — the customer self-service portal (CONTRACT "Customer portal")."""

from django.urls import path

from portal.views import auth, home

app_name = "portal"

urlpatterns = [
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.PortalLogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    # --- overview, usage, bills, invoices (one section per module in portal/views/) ---
    # --- keys, budgets, alerts, users ---
]

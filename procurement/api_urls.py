"""Every /api/v1/ route, gathered from the apps (the composition root may import all)."""

from django.urls import include, path

urlpatterns = [
    path("", include("customers.urls")),
    path("", include("billing.urls")),
    path("", include("invoices.urls")),
    path("", include("presales.urls")),
    path("", include("banking.urls")),
    path("", include("workspace.api_urls")),
]

"""/api/v1/ routes of the workspace (included by procurement/api_urls.py)."""

from django.urls import path

from workspace import api

urlpatterns = [
    path("reconciliation/", api.ReconciliationView.as_view(), name="reconciliation"),
    path("provider-costs/imports/", api.ProviderCostImportCreate.as_view(), name="provider-cost-import"),
]

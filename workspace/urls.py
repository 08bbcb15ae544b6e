"""/staff/ — finance staff pages (the presales pages live under /staff/presales/)."""

from django.urls import path

from workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
]

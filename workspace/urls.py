"""/staff/ — finance staff pages (the presales pages live under /staff/presales/)."""

from django.urls import path

from workspace import collections_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("statement/", collections_views.statement, name="statement"),
    path("bills/<str:number>/dispute/", collections_views.dispute, name="dispute"),
]

"""/staff/presales/… pages (included once by procurement/urls.py)."""

from django.urls import path

from presales import views

app_name = "presales"

urlpatterns = [
    path("", views.intake, name="intake"),
    path("estimates/<int:estimate_id>/", views.estimate_detail, name="estimate"),
    path("proposals/<str:number>/", views.proposal_detail, name="proposal"),
    path("proposals/<str:number>/pdf/", views.proposal_pdf, name="proposal-pdf"),
    path("proposals/<str:number>/accept/", views.proposal_accept, name="proposal-accept"),
]

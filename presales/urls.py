"""/api/v1/presales/… routes."""

from django.urls import path

from presales import api

urlpatterns = [
    path("presales/estimates/", api.EstimateCreate.as_view(), name="presales-estimate-create"),
    path("presales/estimates/<int:estimate_id>/", api.EstimateDetail.as_view(), name="presales-estimate-detail"),
    path(
        "presales/estimates/<int:estimate_id>/proposals/",
        api.ProposalCreate.as_view(),
        name="presales-proposal-create",
    ),
    path("presales/proposals/<str:number>/", api.ProposalDetail.as_view(), name="presales-proposal-detail"),
    path("presales/proposals/<str:number>/pdf/", api.ProposalPdf.as_view(), name="presales-proposal-pdf"),
    path("presales/proposals/<str:number>/accept/", api.ProposalAccept.as_view(), name="presales-proposal-accept"),
]

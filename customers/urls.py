from django.urls import path

from customers import api

urlpatterns = [
    path("customers/", api.CustomerListCreate.as_view(), name="customer-list"),
    path("customers/<str:code>/", api.CustomerDetail.as_view(), name="customer-detail"),
    path("customers/<str:code>/contracts/", api.ContractListCreate.as_view(), name="contract-list"),
    path("customers/<str:code>/contracts/<str:number>/", api.ContractDetail.as_view(), name="contract-detail"),
    path("customers/<str:code>/projects/", api.ProjectListCreate.as_view(), name="project-list"),
    path("customers/<str:code>/users/", api.PortalUserListCreate.as_view(), name="portal-user-list"),
    path("customers/<str:code>/api-keys/", api.CustomerApiKeyList.as_view(), name="customer-api-key-list"),
    path("customers/<str:code>/invoice-titles/", api.InvoiceTitleListCreate.as_view(), name="invoice-title-list"),
    path(
        "customers/<str:code>/invoice-titles/<int:pk>/", api.InvoiceTitleDetail.as_view(), name="invoice-title-detail"
    ),
    path(
        "customers/<str:code>/projects/<str:project>/api-keys/",
        api.ApiKeyListCreate.as_view(),
        name="api-key-list",
    ),
    path(
        "customers/<str:code>/projects/<str:project>/api-keys/<str:key_id>/revoke/",
        api.ApiKeyRevoke.as_view(),
        name="api-key-revoke",
    ),
]

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from procurement import documents, views

# Bill and invoice files, for signed-in users only (procurement/documents.py). MEDIA_ROOT is
# never served as public media, in any setting: no static(MEDIA_URL, …) here.
document_urls = (
    [
        path("bills/<str:number>/pdf/", documents.bill_pdf, name="bill-pdf"),
        path("bills/<str:number>/notices/<str:notice>/pdf/", documents.notice_pdf, name="notice-pdf"),
        path("customers/<str:code>/statement/pdf/", documents.statement_pdf, name="statement-pdf"),
        path("invoices/<str:number>/pdf/", documents.invoice_pdf, name="invoice-pdf"),
        path("invoices/<str:number>/platform-file/", documents.invoice_platform_file, name="invoice-platform-file"),
    ],
    "documents",
)

handler400 = views.bad_parameter
handler403 = views.forbidden
handler404 = views.not_found
handler500 = views.server_failed

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("documents/", include(document_urls)),
    path("staff/presales/", include("presales.staff_urls")),
    path("portal/", include("portal.urls")),
    path("staff/", include("workspace.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("procurement.api_urls")),
]

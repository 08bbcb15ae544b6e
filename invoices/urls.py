from django.urls import path

from invoices import api, callbacks

urlpatterns = [
    path("bills/<str:number>/invoices/", api.BillInvoices.as_view(), name="bill-invoices"),
    path("invoices/callbacks/nuonuo/", callbacks.NuonuoCallback.as_view(), name="invoice-callback-nuonuo"),
    path("invoices/", api.InvoiceList.as_view(), name="invoice-list"),
    path("invoices/<str:number>/", api.InvoiceDetail.as_view(), name="invoice-detail"),
    path("invoices/<str:number>/pdf/", api.InvoicePdf.as_view(), name="invoice-pdf"),
    path("invoices/<str:number>/red-letter/", api.InvoiceRedLetter.as_view(), name="invoice-red-letter"),
    path("invoices/<str:number>/record/", api.InvoiceRecordManual.as_view(), name="invoice-record-manual"),
    path("invoice-requests/", api.InvoiceRequests.as_view(), name="invoice-requests"),
]

from django.urls import path

from billing import alerts_api, api, bills_api

urlpatterns = [
    path("usage-records/", api.UsageRecordsIngest.as_view(), name="usage-records"),
    path("usage-summary/", api.UsageSummaryView.as_view(), name="usage-summary"),
    path("prices/", api.PriceListCreate.as_view(), name="price-list"),
    path("exchange-rates/", api.ExchangeRateListCreate.as_view(), name="exchange-rate-list"),
    path("bills/", bills_api.BillList.as_view(), name="bill-list"),
    path("bills/close/", bills_api.MonthClose.as_view(), name="bill-close"),
    path("bills/<str:number>/", bills_api.BillDetail.as_view(), name="bill-detail"),
    path("bills/<str:number>/pdf/", bills_api.BillPdf.as_view(), name="bill-pdf"),
    path("bills/<str:number>/payments/", bills_api.BillPayments.as_view(), name="bill-payments"),
    path("bills/<str:number>/confirm/", bills_api.BillConfirm.as_view(), name="bill-confirm"),
    path("bills/<str:number>/void/", bills_api.BillVoid.as_view(), name="bill-void"),
    path("bills/<str:number>/reissue/", bills_api.BillReissue.as_view(), name="bill-reissue"),
    path("receivables/aging/", bills_api.ReceivablesAging.as_view(), name="receivables-aging"),
    path("revenue/", bills_api.Revenue.as_view(), name="revenue"),
    path("customers/<str:code>/budgets/", alerts_api.BudgetListCreate.as_view(), name="budget-list"),
    path("customers/<str:code>/insights/", alerts_api.CostInsights.as_view(), name="cost-insights"),
    path("alerts/", alerts_api.AlertList.as_view(), name="alert-list"),
    path("api-keys/<str:key_id>/allowance/", alerts_api.KeyAllowanceView.as_view(), name="api-key-allowance"),
]

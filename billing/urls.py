from django.urls import path

from billing.api import bills, budgets, collecting, insights, pricing, receivables, records, usage

urlpatterns = [
    path("usage-records/", records.UsageRecords.as_view(), name="usage-records"),
    path("usage-summary/", usage.UsageSummaryView.as_view(), name="usage-summary"),
    path("prices/", pricing.PriceListCreate.as_view(), name="price-list"),
    path("exchange-rates/", pricing.ExchangeRateListCreate.as_view(), name="exchange-rate-list"),
    path("bills/", bills.BillList.as_view(), name="bill-list"),
    path("bills/close/", bills.MonthClose.as_view(), name="bill-close"),
    path("bills/<str:number>/", bills.BillDetail.as_view(), name="bill-detail"),
    path("bills/<str:number>/pdf/", bills.BillPdf.as_view(), name="bill-pdf"),
    path(
        "bills/<str:number>/lines/<int:position>/records/",
        records.BillLineRecords.as_view(),
        name="bill-line-records",
    ),
    path("bills/<str:number>/payments/", bills.BillPayments.as_view(), name="bill-payments"),
    path("bills/<str:number>/confirm/", bills.BillConfirm.as_view(), name="bill-confirm"),
    path("bills/<str:number>/void/", bills.BillVoid.as_view(), name="bill-void"),
    path("bills/<str:number>/reissue/", bills.BillReissue.as_view(), name="bill-reissue"),
    path("bills/<str:number>/notices/", collecting.BillNotices.as_view(), name="bill-notices"),
    path("bills/<str:number>/notices/<str:notice>/pdf/", collecting.BillNoticePdf.as_view(), name="bill-notice-pdf"),
    path("bills/<str:number>/dispute/", collecting.BillDispute.as_view(), name="bill-dispute"),
    path(
        "bills/<str:number>/dispute/messages/", collecting.BillDisputeMessages.as_view(), name="bill-dispute-messages"
    ),
    path("bills/<str:number>/dispute/resolve/", collecting.BillDisputeResolve.as_view(), name="bill-dispute-resolve"),
    path("bills/<str:number>/credits/", collecting.BillCredits.as_view(), name="bill-credits"),
    path("receivables/aging/", receivables.ReceivablesAging.as_view(), name="receivables-aging"),
    path("revenue/", receivables.Revenue.as_view(), name="revenue"),
    path("customers/<str:code>/deposits/", bills.CustomerDeposits.as_view(), name="customer-deposits"),
    path("customers/<str:code>/statement/", collecting.CustomerStatement.as_view(), name="customer-statement"),
    path(
        "customers/<str:code>/statement/pdf/", collecting.CustomerStatementPdf.as_view(), name="customer-statement-pdf"
    ),
    path("customers/<str:code>/budgets/", budgets.BudgetListCreate.as_view(), name="budget-list"),
    path("customers/<str:code>/budgets/<int:pk>/test/", budgets.BudgetTestSend.as_view(), name="budget-test"),
    path("customers/<str:code>/insights/", insights.CostInsights.as_view(), name="cost-insights"),
    path("alerts/", budgets.AlertList.as_view(), name="alert-list"),
    path("api-keys/<str:key_id>/allowance/", budgets.KeyAllowanceView.as_view(), name="api-key-allowance"),
]

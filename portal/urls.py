"""/portal/ — the customer self-service portal (CONTRACT "Customer portal")."""

from django.urls import path

from portal.views import alerts, auth, bills, budgets, home, invoices, keys, statement, usage, users

app_name = "portal"

urlpatterns = [
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.PortalLogoutView.as_view(), name="logout"),
    path("", home.home, name="home"),
    # --- overview, usage, bills, invoices (one section per module in portal/views/) ---
    path("password-reset/", auth.PortalPasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PortalPasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PortalPasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password-reset/done/", auth.PortalPasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("usage/", usage.usage, name="usage"),
    path("usage/export.csv", usage.export_csv, name="usage-export-csv"),
    path("usage/export.xlsx", usage.export_xlsx, name="usage-export-xlsx"),
    path("usage/records.csv", usage.records_csv, name="usage-records-csv"),
    path("bills/", bills.bill_list, name="bills"),
    path("bills/<str:number>/", bills.bill_detail, name="bill"),
    path("bills/<str:number>/pdf/", bills.bill_pdf, name="bill-pdf"),
    path(
        "bills/<str:number>/lines/<int:position>/records.csv",
        bills.bill_line_records_csv,
        name="bill-line-records-csv",
    ),
    path("bills/<str:number>/confirm/", bills.bill_confirm, name="bill-confirm"),
    path("bills/<str:number>/dispute/", bills.bill_dispute_reply, name="bill-dispute"),
    path("bills/<str:number>/notices/<str:notice>/pdf/", bills.bill_notice_pdf, name="bill-notice-pdf"),
    path("statement/", statement.statement, name="statement"),
    path("statement/pdf/", statement.statement_pdf, name="statement-pdf"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<str:number>/pdf/", invoices.invoice_pdf, name="invoice-pdf"),
    path("invoice-titles/", invoices.title_list, name="invoice-titles"),
    path("invoice-titles/new/", invoices.title_edit, name="invoice-title-add"),
    path("invoice-titles/<int:pk>/", invoices.title_edit, name="invoice-title-edit"),
    path("invoice-requests/", invoices.invoice_request, name="invoice-requests"),
    # --- keys, budgets, alerts, users ---
    path("keys/", keys.keys, name="keys"),
    path("keys/<str:key_id>/revoke/", keys.key_revoke, name="key-revoke"),
    path("budgets/", budgets.budgets, name="budgets"),
    path("budgets/<int:pk>/", budgets.budget_edit, name="budget-edit"),
    path("budgets/<int:pk>/test/", budgets.budget_test, name="budget-test"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("users/", users.users, name="users"),
    path("users/<int:pk>/role/", users.user_role, name="user-role"),
    path("users/<int:pk>/active/", users.user_active, name="user-active"),
    path("invitation/<uidb64>/<token>/", users.InvitationView.as_view(), name="invitation"),
]

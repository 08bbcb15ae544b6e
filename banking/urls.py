from django.urls import path

from banking import api

urlpatterns = [
    path("bank-statements/", api.BankStatementUpload.as_view(), name="bank-statement-upload"),
    path("bank-transactions/", api.BankTransactionList.as_view(), name="bank-transaction-list"),
    path("bank-transactions/<int:pk>/match/", api.BankTransactionMatch.as_view(), name="bank-transaction-match"),
    path("bank-transactions/<int:pk>/ignore/", api.BankTransactionIgnore.as_view(), name="bank-transaction-ignore"),
]

from django.urls import path

from billing import api

urlpatterns = [
    path("usage-records/", api.UsageRecordsIngest.as_view(), name="usage-records"),
    path("usage-summary/", api.UsageSummaryView.as_view(), name="usage-summary"),
    path("prices/", api.PriceListCreate.as_view(), name="price-list"),
    path("exchange-rates/", api.ExchangeRateListCreate.as_view(), name="exchange-rate-list"),
]

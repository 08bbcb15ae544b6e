"""Bank statements, their transactions, saved CSV column profiles and remembered payers.

A transaction is stored once (``dedupe_key``): an overlapping statement adds nothing twice.
Money is booked only through the payment service (``billing.bills.lifecycle``); a
transaction keeps the payments it booked.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models import Payment
from customers.models import Customer

MAX_MEMO = 1000
MAX_NAME = 200
MAX_ACCOUNT = 64
MAX_REFERENCE = 100


def account_key(account: str) -> str:
    """A bank account as compared: NFKC, no spaces or hyphens, upper case (IBANs)."""
    text = unicodedata.normalize("NFKC", account or "")
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()


class StatementFormat(models.TextChoices):
    MT940 = "mt940", "MT940"
    CAMT053 = "camt053", "camt.053"
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class CsvProfile(models.Model):
    """The columns of one bank's online-banking export (CSV or XLSX), saved by name."""

    class Encoding(models.TextChoices):
        UTF8 = "utf-8", "UTF-8"
        GBK = "gbk", "GBK"

    name = models.CharField(_("name"), max_length=60, unique=True)
    encoding = models.CharField(_("encoding"), max_length=8, choices=Encoding.choices, default=Encoding.GBK)
    columns = models.JSONField(
        _("columns"),
        default=dict,
        help_text=_(
            "Role → column header: date, amount (credits), debit_amount (optional), payer_name, payer_account, "
            "memo, bank_reference, currency (optional). Several memo columns: separate them with |."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("CSV column profile")
        verbose_name_plural = _("CSV column profiles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PayerAccount(models.Model):
    """A payer's bank account remembered for a customer once finance matched a transfer from it
    by hand: the next transfer from it is the customer's."""

    account = models.CharField(_("payer account"), max_length=MAX_ACCOUNT)
    account_key = models.CharField(max_length=MAX_ACCOUNT, unique=True, editable=False)
    payer_name = models.CharField(_("payer name"), max_length=MAX_NAME, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="payer_accounts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("remembered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("remembered payer account")
        verbose_name_plural = _("remembered payer accounts")
        ordering = ["customer__code", "account"]

    def __str__(self) -> str:
        return f"{self.account} → {self.customer.code}"

    def save(self, *args, **kwargs):
        self.account_key = account_key(self.account)
        super().save(*args, **kwargs)


class BankStatement(models.Model):
    file = models.FileField(_("file"), upload_to="bank-statements/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=8, choices=StatementFormat.choices)
    account = models.CharField(_("account"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    lines = models.PositiveIntegerField(_("lines read"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    credits = models.PositiveIntegerField(_("credits"), default=0)
    debits = models.PositiveIntegerField(_("debits"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"


class BankTransaction(models.Model):
    class Direction(models.TextChoices):
        CREDIT = "credit", _("credit (money in)")
        DEBIT = "debit", _("debit (money out)")

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("unmatched")
        MATCHED = "matched", _("matched")
        IGNORED = "ignored", _("ignored")

    statement = models.ForeignKey(
        BankStatement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="transactions"
    )
    line = models.PositiveIntegerField(_("line in the file"))
    date = models.DateField(_("value date"))
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    payer_name = models.CharField(_("payer name"), max_length=MAX_NAME, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=MAX_ACCOUNT, blank=True)
    memo = models.CharField(_("memo"), max_length=MAX_MEMO, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=MAX_REFERENCE, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UNMATCHED)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Same bank reference, or without one the same date, amount, payer account and memo.
    dedupe_key = models.CharField(max_length=110, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bank_transactions",
    )
    payments = models.ManyToManyField(Payment, verbose_name=_("payments"), blank=True, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("matched or ignored by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("matched or ignored at"), null=True, blank=True)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank transaction")
        verbose_name_plural = _("bank transactions")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["status", "date"], name="banktxn_status_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.payer_name or self.payer_account or ''}".strip()

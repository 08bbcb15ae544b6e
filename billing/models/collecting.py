"""Collecting what is owed: dunning notices (催款) and their numbers, dispute threads and the
credits that correct a disputed bill on the next one (CONTRACT "Collections")."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models.bills import Bill
from common.admin_display import money_text
from customers.models import Customer


class DunningNotice(models.Model):
    """One notice of a bill's dunning: a stage happens at most once per bill (the unique
    constraint), the two letters carry a gapless ``CS-{YYYY}-{NNNN}`` number. Kept for ever:
    a 催款函 is the proof that interrupts the limitation period (民法典 art. 195)."""

    class Stage(models.TextChoices):
        REMINDER = "reminder", _("Reminder before the due date")
        OVERDUE = "overdue", _("Overdue notice")
        DEMAND_15 = "demand_15", _("Demand letter (15 days overdue)")
        DEMAND_30 = "demand_30", _("Final demand letter (30 days overdue)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        NO_RECIPIENT = "no_recipient", _("Not sent: no billing e-mail")
        WITHDRAWN = "withdrawn", _("Not sent: paid or disputed before it went out")

    LETTER_STAGES = (Stage.DEMAND_15, Stage.DEMAND_30)

    bill = models.ForeignKey(Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="notices")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    on_day = models.DateField(_("for the day"), help_text=_("The business day whose dunning run made it."))
    days_overdue = models.IntegerField(_("days overdue"))
    balance = MoneyField(_("balance then"), max_digits=14, decimal_places=2, default_currency="CNY")
    suspend_on = models.DateField(
        _("suspension from"),
        null=True,
        blank=True,
        help_text=_("The final letter names the day credit control suspends the customer's keys."),
    )
    to = ArrayField(models.CharField(max_length=254), verbose_name=_("to"), default=list, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claimed_at = models.DateTimeField(
        _("send started at"),
        null=True,
        blank=True,
        help_text=_("When a run claimed it for sending; a claim older than the lease is taken back."),
    )
    pdf = models.FileField(_("PDF"), upload_to="notices/%Y/", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("dunning notice")
        verbose_name_plural = _("dunning notices")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["bill", "stage"], name="dunning_notice_once_per_stage")]

    def __str__(self) -> str:
        return self.number or f"{self.bill} · {self.get_stage_display()}"

    @property
    def is_letter(self) -> bool:
        return self.stage in self.LETTER_STAGES


class DunningCounter(models.Model):
    """The last 催款函 sequence used in a year; locked in the numbering transaction (gapless)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("demand letter counter")
        verbose_name_plural = _("demand letter counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_sequence}"


class DisputeMessage(models.Model):
    """One message of a bill's dispute thread: the customer's dispute and replies, finance's
    answers, the resolution and any credit granted. Written only by billing.bills.disputes."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("dispute")
        REPLY = "reply", _("reply")
        RESOLVED = "resolved", _("resolved")
        CREDIT = "credit", _("credit on the next bill")

    class Side(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        FINANCE = "finance", _("finance")

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="dispute_messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REPLY)
    side = models.CharField(_("from"), max_length=10, choices=Side.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("message"))
    credit = models.ForeignKey(
        "billing.BillCredit",
        verbose_name=_("credit granted"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dispute message")
        verbose_name_plural = _("dispute messages")
        ordering = ["bill", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.bill} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class BillCredit(models.Model):
    """A correction of a disputed bill (before VAT), granted by finance and carried as a
    ``credit`` line onto the customer's next bill(s) — the issued bill itself never changes.
    What is left to carry is ``amount`` less the credit lines on live (not void) bills, so a
    credit on a bill that is voided is carried again by its reissue."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(
        Bill, verbose_name=_("corrects bill"), on_delete=models.PROTECT, related_name="credits_granted"
    )
    amount = MoneyField(_("amount (before VAT)"), max_digits=14, decimal_places=2, default_currency="CNY")
    reason = models.CharField(_("reason"), max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit on the next bill")
        verbose_name_plural = _("credits on the next bill")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="bill_credit_positive")]

    def __str__(self) -> str:
        return f"{self.bill} {money_text(-self.amount.amount)}"

"""Celery tasks of invoices: thin wrappers taking ids (queues: CELERY_TASK_ROUTES; beat:
procurement/schedule.py); each with a hard and a soft time limit."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="invoices.tasks.invoice_render_and_send", bind=True, max_retries=5, time_limit=300, soft_time_limit=270
)
def invoice_render_and_send(self, invoice_id: int) -> str:
    """Render the invoice PDF, then e-mail it to the invoice title's address once."""
    from invoices.documents import invoice_render_pdf, invoice_send

    try:
        invoice_render_pdf(invoice_id=invoice_id)
        sent = invoice_send(invoice_id=invoice_id)
    except Exception as exc:  # noqa: BLE001 - retried with backoff
        raise self.retry(exc=exc, countdown=60 * (2**self.request.retries)) from exc
    return "sent" if sent else "already sent"


@shared_task(name="invoices.tasks.invoices_poll_pending", time_limit=300, soft_time_limit=270)
def invoices_poll_pending() -> int:
    """Ask the issuing platform about invoices still pending (provider backends)."""
    from invoices.backends import get_backend
    from invoices.models import Invoice

    backend = get_backend()
    poll = getattr(backend, "poll", None)
    if poll is None:
        return 0
    done = 0
    for invoice in Invoice.objects.filter(status=Invoice.Status.PENDING, backend=backend.name):
        done += bool(poll(invoice=invoice))
    return done


@shared_task(name="invoices.tasks.invoice_platform_submit", time_limit=120, soft_time_limit=108)
def invoice_platform_submit(invoice_id: int) -> str:
    """Send a pending invoice to its provider backend (retried by the poller if it cannot)."""
    from invoices.backends import get_backend
    from invoices.models import Invoice

    invoice = Invoice.objects.get(pk=invoice_id)
    backend = get_backend(invoice.backend)
    send = getattr(backend, "send", None)
    if send is None:
        return "nothing to send"
    send(invoice=invoice)
    return "sent"

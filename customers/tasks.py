"""Customers' Celery tasks (names customers.tasks.*): the account e-mails, sent by a worker
so that a request never waits for a mail server nor takes longer for a known address."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="customers.tasks.mail_send",
    bind=True,
    max_retries=5,
    default_retry_delay=30,
    time_limit=120,
    soft_time_limit=100,
)
def mail_send(self, subject: str, body: str, to: list[str]) -> None:
    """One e-mail (an invitation); retried with backoff when the mail server fails."""
    from django.core.mail import send_mail

    try:
        send_mail(subject, body, None, to)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(name="customers.tasks.password_reset_mail", time_limit=120, soft_time_limit=100)
def password_reset_mail(email: str, domain: str, use_https: bool, language: str, templates: list[str]) -> int:
    """The password-reset e-mail to every active account with ``email`` (none when unknown)."""
    from customers.services import password_reset_send

    return password_reset_send(
        email=email,
        domain=domain,
        use_https=use_https,
        language=language,
        email_template_name=templates[0],
        subject_template_name=templates[1],
    )

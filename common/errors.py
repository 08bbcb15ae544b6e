"""The domain's refusals, raised by services and selectors, known to no web framework.

A bad argument is Django's ``ValidationError`` keyed by the field (as before). The two
refusals here say something else:

- ``Conflict``: the request is well formed but the current state forbids it (a bill already
  paid, a proposal already accepted). Nothing changed.
- ``NotAllowed``: the acting user's role does not allow it. It is Django's
  ``PermissionDenied`` (with the reason), so a plain Django view answers it with its 403
  page by itself.

Each carries a message for people and, optionally, field errors (field → messages). Only
the API's exception handler (``common.api.exception_handler``) turns them into HTTP: 409
and 403 in the contract's error shape; a page or an admin form shows ``message`` (and
``errors``) beside what it names.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A refusal: ``message`` (a sentence in the request's language) and ``errors``
    (field → messages, ``{}`` when the refusal concerns the request as a whole)."""

    default_message = ""

    def __init__(self, message: str = "", *, errors: dict[str, list[str]] | None = None):
        self.message = str(message) if message else str(self.default_message)
        self.errors = {str(field): [str(m) for m in messages] for field, messages in (errors or {}).items()}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def messages(self) -> list[str]:
        """Every sentence of the refusal: the message, then each field's."""
        return [m for m in [self.message] if m] + [m for ms in self.errors.values() for m in ms]


class Conflict(DomainError):
    """The current state forbids the request (the API answers 409)."""


class NotAllowed(DomainError, PermissionDenied):
    """The acting user's role does not allow this (the API answers 403; a page, Django's 403).

    Without a message the API says its generic "You do not have permission" sentence."""


def refusal_text(exc: Exception) -> str:
    """A service's refusal (a ``DomainError`` or a Django ``ValidationError``) as one text
    for a message line."""
    messages = getattr(exc, "messages", None)
    return " ".join(map(str, messages)) if messages else str(exc)

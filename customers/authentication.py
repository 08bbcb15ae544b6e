"""``Authorization: Token pc_<id>_<secret>`` against hashed API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from customers.models import ApiToken, secret_digest

_TOUCH_EVERY = timedelta(minutes=10)


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        failed = exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "pc":
            raise failed
        _prefix, token_id, secret = parts
        token = ApiToken.objects.select_related("user").filter(token_id=token_id).first()
        if token is None:
            secret_digest(secret)  # same work whether or not the id exists
            raise failed
        if not token.check_secret(secret) or token.revoked_at is not None:
            raise failed
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

"""``Authorization: Token pc_<id>_<secret>`` against hashed API tokens."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from customers.models import ApiToken, secret_digest

_TOUCH_EVERY = timedelta(minutes=10)


@cache
def _token_query() -> tuple[str, list[str], list[str]]:
    """One query for the token, its user and the user's group names (customers.access reads
    them from the user). Written out rather than built by the ORM on every request: every API
    call runs it, the gateway's allowance checks above all, and building the equivalent
    select_related + ArraySubquery costs several times the query itself."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    token_fields = [f.attname for f in ApiToken._meta.concrete_fields]
    user_fields = [f.attname for f in user_model._meta.concrete_fields]
    through = user_model._meta.get_field("groups").remote_field.through._meta.db_table
    columns = [f"t.{quote(f.column)}" for f in ApiToken._meta.concrete_fields]
    columns += [f"u.{quote(f.column)}" for f in user_model._meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)}, "
        f"ARRAY(SELECT g.name FROM {quote(Group._meta.db_table)} g JOIN {quote(through)} ug ON ug.group_id = g.id "
        f"WHERE ug.user_id = u.id) "
        f"FROM {quote(ApiToken._meta.db_table)} t JOIN {quote(user_model._meta.db_table)} u ON u.id = t.user_id "
        f"WHERE t.token_id = %s"
    )
    return sql, token_fields, user_fields


def _token_with_user(token_id: str) -> ApiToken | None:
    sql, token_fields, user_fields = _token_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(token_fields)
    token = ApiToken.from_db(connection.alias, token_fields, row[:split])
    user = get_user_model().from_db(connection.alias, user_fields, row[split : split + len(user_fields)])
    user._group_names = frozenset(row[-1])
    token.user = user
    return token


def token_authenticate(key: str) -> ApiToken:
    """The active token for ``pc_<token_id>_<secret>`` with its user (and group names), or
    AuthenticationFailed. Constant-time secret comparison; the same work for unknown ids."""
    failed = exceptions.AuthenticationFailed(_("Invalid or revoked token."))
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pc":
        raise failed
    _prefix, token_id, secret = parts
    token = _token_with_user(token_id)
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
    return token


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = token_authenticate(key)
        return token.user, token

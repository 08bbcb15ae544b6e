"""Alert channels: which a budget may keep (at entry) and which a worker may send to (at send time).

Our staff (the admin, the finance API) may use any URL apprise understands, their own systems
included. A channel a customer sets (the portal, the API as a portal user) is held to the
public services in CUSTOMER_CHANNEL_PLUGINS, at entry and again before each send, when the
hosts the service would call are resolved and refused unless every address is public: no
customer can make our workers call an address of their choosing, not even through a DNS
name that later points inside. A customer's e-mail address is held to the same host rule:
no address literal (``x@[127.0.0.1]``), no internal or unqualified domain (``root@localhost``).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

# The services a customer may point alerts at, by the apprise plugin that sends to them, with
# the hosts that plugin calls. These plugins build the service's own URL from a token, so the
# only hosts they reach are these (or, for an https:// webhook, the URL's host, one of these).
CUSTOMER_CHANNEL_PLUGINS = {
    "NotifyWeComBot": ("qyapi.weixin.qq.com",),
    "NotifyDingTalk": ("oapi.dingtalk.com",),
    "NotifyFeishu": ("open.feishu.cn",),
    "NotifyLark": ("open.larksuite.com",),
    "NotifySlack": ("hooks.slack.com", "slack.com"),
}
CUSTOMER_WEBHOOK_HOSTS = frozenset(host for hosts in CUSTOMER_CHANNEL_PLUGINS.values() for host in hosts)

# Schemes whose "host" is the service's token (wecombot://KEY), not a host we would call.
_TOKEN_SCHEMES = frozenset({"wecombot", "dingtalk", "feishu", "lark", "slack"})


class ChannelRefused(Exception):
    """A customer-set channel a worker must not send to; the message is the reason, for our log."""


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IP address, an IPv4-mapped IPv6 one (``::ffff:127.0.0.1``) as the IPv4 it is."""
    address = ipaddress.ip_address(text.split("%")[0])
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


# Names that never lead to the public internet: the special-use and reserved top-level
# domains (RFC 2606, 6761, 6762, 8375; ICANN's .internal) and the private ones in common use.
INTERNAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".home.arpa",
    ".corp",
    ".private",
    ".localdomain",
    ".test",
    ".example",
    ".invalid",
    ".arpa",
)


def _internal_host(host: str) -> bool:
    """Loopback, private, link-local (cloud metadata), reserved or unqualified names —
    the one rule for a customer's webhook hosts and e-mail domains."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return False
    try:
        address = _address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(INTERNAL_SUFFIXES)
    return not address.is_global


def _internal_email(address: str) -> bool:
    """An e-mail address whose domain is an address literal (``x@[127.0.0.1]``) or an
    internal host by the webhook rule (``root@localhost``, ``a@mail``, ``a@corp.internal``)."""
    domain = address.rpartition("@")[2].strip()
    return domain.startswith("[") or _internal_host(domain)


def _customer_service(channel: str):
    """The apprise service of a customer-set URL, or ValidationError: one of the allowed
    services, never an internal address."""
    parts = urlsplit(channel)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    web = parts.scheme.lower() in ("http", "https")
    if (web or parts.scheme.lower() not in _TOKEN_SCHEMES) and _internal_host(host):
        raise ValidationError(
            {"channels": [_("%(c)s points at an internal or private address; it cannot be used.") % {"c": channel}]}
        )
    import apprise

    service = apprise.Apprise.instantiate(channel)
    allowed = service is not None and type(service).__name__ in CUSTOMER_CHANNEL_PLUGINS
    if not allowed or (web and (parts.scheme.lower() != "https" or host not in CUSTOMER_WEBHOOK_HOSTS)):
        raise ValidationError(
            {
                "channels": [
                    _("Only e-mail addresses and WeCom, DingTalk, Feishu/Lark or Slack webhooks can be used: %(c)s")
                    % {"c": channel}
                ]
            }
        )
    return service


def check_channel(channel: str, *, staff: bool = False) -> str:
    """The channel as it is kept: an e-mail address (``mailto:`` dropped) or an apprise URL;
    a customer's (``staff`` False) held to CUSTOMER_CHANNEL_PLUGINS."""
    if channel.lower().startswith("mailto:") and "://" not in channel:
        channel = channel[len("mailto:") :]
    if "://" in channel:
        if not staff:
            _customer_service(channel)
            return channel
        import apprise

        if apprise.Apprise.instantiate(channel) is None:
            raise ValidationError(
                {
                    "channels": [
                        _("Not an e-mail address or a notification URL apprise understands: %(c)s") % {"c": channel}
                    ]
                }
            )
        return channel
    try:
        validate_email(channel)
    except ValidationError as exc:
        raise ValidationError(
            {"channels": [_("Not an e-mail address or a notification URL: %(c)s") % {"c": channel}]}
        ) from exc
    if not staff and _internal_email(channel):
        raise ValidationError(
            {
                "channels": [
                    _("%(c)s is an address on an internal or private domain; it cannot be used.") % {"c": channel}
                ]
            }
        )
    return channel


def check_before_send(channel: str) -> None:
    """Raise ChannelRefused unless a customer-set ``channel`` may be sent to now: the entry
    rule again (a channel kept before it existed), then every address each host the service
    would call resolves to must be public. E-mail goes through our own mail server, to a
    public domain only."""
    if "://" not in channel:
        if _internal_email(channel.removeprefix("mailto:")):
            raise ChannelRefused(f"{channel} is an address on an internal domain")
        return
    try:
        with translation.override("en"):  # the reason is for our log
            service = _customer_service(channel)
    except ValidationError as exc:
        raise ChannelRefused(" ".join(exc.messages)) from exc
    hosts = set(CUSTOMER_CHANNEL_PLUGINS[type(service).__name__])
    if urlsplit(channel).scheme.lower() in ("http", "https"):
        hosts = {urlsplit(channel).hostname}
    for host in sorted(hosts):
        try:
            resolved = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise ChannelRefused(f"{host} does not resolve: {exc}") from exc
        for _family, _type, _proto, _name, sockaddr in resolved:
            address = _address(sockaddr[0])
            if not address.is_global:
                raise ChannelRefused(f"{host} resolves to {address}, not a public address")

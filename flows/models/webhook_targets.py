"""Where a webhook may post: public https addresses only.

Checked when a webhook is saved (`Webhook.clean`) and again at every send
(`flows.outbox.webhooks.post`), since a DNS answer may change in between.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValidationError(
            _("Le nom d'hôte « %(host)s » est introuvable.") % {"host": host}
        ) from error
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def check_target(url: str) -> list[str]:
    """The addresses `url` may be sent to; ValidationError when it is refused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.WEBHOOK_ALLOW_HTTP):
        raise ValidationError(_("Seules les adresses https:// sont acceptées."))
    if not parts.hostname:
        raise ValidationError(_("Adresse invalide : il manque le nom d'hôte."))
    if parts.username or parts.password:
        raise ValidationError(
            _("Pas d'identifiants dans l'adresse : la signature authentifie l'envoi.")
        )
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise ValidationError(_("Port invalide.")) from error
    addresses = _resolve(parts.hostname, port)
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        refused = [address for address in addresses if not _is_public(address)]
        if refused:
            raise ValidationError(
                _(
                    "« %(host)s » mène à une adresse privée, locale ou réservée "
                    "(%(address)s) : refusée."
                )
                % {"host": parts.hostname, "address": refused[0]}
            )
    return addresses

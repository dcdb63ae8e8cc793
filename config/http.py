"""Request typing and the one place that decides who the client is."""

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address, trusting only our own proxies.

    With ``TRUSTED_PROXY_COUNT = n`` (``n`` reverse proxies in front of the
    app), each proxy appends the address it saw to ``X-Forwarded-For``; the
    n-th entry from the right is the client as seen by the outermost proxy.
    Entries further left are whatever the client sent and are ignored, so a
    spoofed header cannot change the address used for lockouts or the audit.
    """
    count = settings.TRUSTED_PROXY_COUNT
    remote_addr = request.META.get("REMOTE_ADDR", "") or ""
    if count <= 0:
        return remote_addr
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < count:
        return remote_addr
    return forwarded[-count]

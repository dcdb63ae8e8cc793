"""Request typing, the one place that decides who the client is, the one
way to read a number from the query string, the one way to follow a
`next` parameter, and which requests are health probes."""

import re
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
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


# --- Numbers in the query string -----------------------------------------------

# Optional sign, ASCII digits only: int() also reads "١٢", "٣" and "3_0", and
# str.isdigit() says yes to "²", which int() then refuses. 18 digits fit in
# the 64-bit integers of SQLite and PostgreSQL; more is no id, page or count.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
# The largest 64-bit integer: the largest id or sequence a database holds.
MAX_BIGINT = 2**63 - 1


def parse_int(
    raw: str | None,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = MAX_BIGINT,
) -> int | None:
    """`raw` as an integer within [minimum, maximum], else `default`.

    Surrounding spaces are ignored; anything else that is not a plain
    decimal integer (letters, other scripts' digits, exponents, underscores,
    more than 18 digits) gives the default, as a value out of range does.
    """
    text = (raw or "").strip()
    if not _INTEGER.fullmatch(text):
        return default
    value = int(text)
    if minimum is not None and value < minimum:
        return default
    if maximum is not None and value > maximum:
        return default
    return value


def query_int(
    query: Mapping[str, str],
    name: str,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = MAX_BIGINT,
) -> int | None:
    """The query string's `name` as an integer, else `default` (see parse_int).

    Every view and filter reads its numbers from GET through this: a value
    that is no valid number means "no filter" (or the first page), never a
    500 from int() or from the database.
    """
    return parse_int(query.get(name), default=default, minimum=minimum, maximum=maximum)


# --- Where to go next -----------------------------------------------------------


def safe_next(request: HttpRequest, url: str | None, default: str) -> str:
    """`url` when it is a path on this site, else `default` (a path or a URL
    name, resolved).

    Only a path starting with "/" is followed: `redirect("x")` would try to
    reverse "x" as a URL name and answer 500 after the action was saved, and
    "//evil.example" or "https://evil.example/" leave the site
    (url_has_allowed_host_and_scheme refuses those, and control characters).
    """
    url = (url or "").strip()
    if (
        url.startswith("/")
        and "\x00" not in url
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return resolve_url(default)


# --- Health probes --------------------------------------------------------------

# The load balancer's and Docker's probes (config.health). The middleware
# that reads the session or the user skips them: with a cookie, that read is
# a query, and /readyz must answer 503, not 500, while the database is down.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def is_probe(request: HttpRequest) -> bool:
    return request.path_info in PROBE_PATHS

"""One webhook POST, bounded by a total deadline (connect, send and read).

The connection goes to the address `check_target` approved, not to a fresh
DNS answer, and redirects are not followed (see `flows.outbox.webhooks`).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from flows.models.webhook_targets import check_target

# What is kept of a receiver's answer in the delivery log.
MAX_LOGGED_BODY = 500


class _Deadline:
    """Cuts an attempt's socket when its total time is up.

    A socket timeout bounds each read, not the answer: a receiver dripping a
    byte every few seconds never trips it. A timer shuts the socket down at
    the deadline instead, which ends any blocked connect, send or read.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired.is_set():
            raise self.error()
        return left

    def error(self) -> TimeoutError:
        # "timed out" as a socket timeout says it, so both read alike.
        detail = _("pas de réponse complète en %(seconds)s s") % {
            "seconds": f"{self.seconds:g}"
        }
        return TimeoutError(f"timed out ({detail})")

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired.is_set():
                self._shutdown()

    def _cut(self) -> None:
        with self._lock:
            self.expired.set()
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is None:
            return
        # The plain socket's shutdown, on TLS sockets too: it only wakes the
        # reader, leaving the TLS state to the closing code. OSError: closed.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to a fresh DNS answer."""

    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline):
        super().__init__(host, port, timeout=deadline.seconds)
        self._address = address
        self._deadline = deadline

    def _open(self) -> socket.socket:
        sock = socket.create_connection(
            (self._address, self.port), self._deadline.remaining()
        )
        self._deadline.watch(sock)
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline):
        super().__init__(host, port, timeout=deadline.seconds)
        self._address = address
        self._deadline = deadline

    _open = _PinnedHTTPConnection._open

    def connect(self) -> None:
        # The certificate is checked against the host name, as usual; the
        # handshake runs once the deadline watches the TLS socket.
        sock = self._context.wrap_socket(
            self._open(), server_hostname=self.host, do_handshake_on_connect=False
        )
        self._deadline.watch(sock)
        sock.do_handshake()
        self.sock = sock


def post(
    url: str, body: bytes, headers: dict[str, str], *, seconds: float
) -> tuple[int, str]:
    """POST once; return (status, start of the answer). Never follows redirects.

    Raises ValidationError for a refused target and OSError for a network
    failure, TimeoutError when the whole exchange outlasts `seconds`.
    """
    addresses = check_target(url)  # again at send time: DNS may have changed
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with _Deadline(seconds) as deadline:
        connection = connection_class(
            parts.hostname, port, address=addresses[0], deadline=deadline
        )
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(MAX_LOGGED_BODY)
        except (OSError, http.client.HTTPException):
            if deadline.expired.is_set():
                raise deadline.error() from None
            raise
        finally:
            connection.close()
    return response.status, answer.decode("utf-8", "replace")

"""E-mails sent once the response has gone, so their cost never shows in it.

A password reset for a known address and a warning about an attacked
account must answer as fast as the same request for an unknown one: an
attacker timing the answers would learn who has an account. Sending
(an SMTP round trip, up to EMAIL_TIMEOUT) is the slow, variable part, so
`send_after_response` queues the message and Django's `request_finished`
signal sends it: the WSGI server fires it when it closes the response,
after the body reached the client. Outside a request (a command, a shell)
the message is sent at once.

The queue is per thread: a sync or gthread worker serves one request per
thread at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

logger = logging.getLogger(__name__)

_state = threading.local()


def send_after_response(send: Callable[[], object]) -> None:
    """Call `send` (sends one e-mail) after the current response.

    Outside a request, at once. A failure is logged, never raised.
    """
    pending = getattr(_state, "pending", None)
    if pending is None:
        _send(send)
    else:
        pending.append(send)


def _send(send: Callable[[], object]) -> None:
    try:
        send()
    except Exception:  # noqa: BLE001 - the request is answered already
        logger.exception("could not send an e-mail")


@receiver(request_started, dispatch_uid="pilote-mail-queue-open")
def _open_queue(sender, **kwargs) -> None:
    _state.pending = []


@receiver(request_finished, dispatch_uid="pilote-mail-queue-flush")
def _flush_queue(sender, **kwargs) -> None:
    pending = getattr(_state, "pending", None) or []
    _state.pending = None
    for send in pending:
        _send(send)

"""Password reset: the same answer and the same work, account or not."""

import pytest
from django.urls import reverse

from config import mail

pytestmark = pytest.mark.django_db


def _reset(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_known_and_unknown_addresses_look_the_same(client, member, mailoutbox):
    known = _reset(client, member.email)
    unknown = _reset(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # The reset message is rendered for the unknown address too (subject and
    # body), then dropped: the answer takes as long either way.
    rendered = [t.name for t in known.templates]
    assert rendered == [t.name for t in unknown.templates]
    assert "registration/password_reset_email.html" in rendered
    assert "registration/password_reset_subject.txt" in rendered
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_an_inactive_account_gets_no_message(client, member, mailoutbox):
    member.is_active = False
    member.save()
    assert _reset(client, member.email).status_code == 302
    assert mailoutbox == []


def test_mail_waits_for_the_end_of_the_request():
    sent = []
    mail._open_queue(sender=None)
    try:
        mail.send_after_response(lambda: sent.append("reset"))
        assert sent == []
    finally:
        mail._flush_queue(sender=None)
    assert sent == ["reset"]
    # Outside a request, at once; a failure is logged, not raised.
    mail.send_after_response(lambda: sent.append("now"))
    mail.send_after_response(lambda: 1 / 0)
    assert sent == ["reset", "now"]

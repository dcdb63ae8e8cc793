from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_french_by_default(client, member):
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert '<html lang="fr">' in html
    assert "Tableau" in html
    assert "Se déconnecter" in html


def test_browser_language_is_honoured(client, member):
    client.force_login(member)
    html = client.get(
        reverse("flows:board"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert '<html lang="en">' in html
    assert "Log out" in html


def test_language_switcher_changes_the_ui_language(client, member):
    client.force_login(member)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("flows:board")}
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert '<html lang="en">' in html
    assert "Board" in html and "My day" in html

    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert "Ma journée" in client.get(reverse("flows:board")).content.decode()


def test_language_switcher_works_on_the_login_page(client):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "/accounts/login/"}
    )
    assert response.status_code == 302
    assert "Log in" in client.get("/accounts/login/").content.decode()


def _po_entries(path):
    """Yield (msgid, [msgstr, ...]) from a .po file (enough of the format)."""
    entry: dict[str, list[str]] = {}
    key = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry.get("msgid") and "".join(entry["msgid"]):
                yield (
                    "".join(entry["msgid"]),
                    ["".join(v) for k, v in entry.items() if k.startswith("msgstr")],
                )
            entry, key = {}, None
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key].append(line[1:-1])
        else:
            key, _space, value = line.partition(" ")
            entry[key] = [value[1:-1]]


def test_english_catalogue_is_complete():
    """Every French source string has an English translation."""

    po = (
        Path(__file__).resolve().parents[2]
        / "locale"
        / "en"
        / "LC_MESSAGES"
        / "django.po"
    )
    entries = list(_po_entries(po))
    assert len(entries) > 20
    untranslated = [msgid for msgid, msgstrs in entries if not all(msgstrs)]
    assert not untranslated

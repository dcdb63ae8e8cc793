"""One input-cleaning layer: `next` followed only to a path of this site, NUL
bytes refused with a 400 before any view, and a POST fuzz of every URL
pattern that must never answer 500."""

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from config import http
from flows.models import ChecklistItem, ImportRun
from tests.config.test_access import PUBLIC_NAMES, ROUTES, _example_path
from tests.config.test_query_numbers import _real_path
from tests.config.test_query_numbers import import_token as import_token
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"


# --- next ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/board/?owner=mine", "/board/?owner=mine"),
        ("/cases/2026-0001/", "/cases/2026-0001/"),
        ("x", "/fallback/"),  # redirect("x") reversed "x" as a URL name: 500
        ("board", "/fallback/"),
        ("//evil.example", "/fallback/"),
        ("https://evil.example/", "/fallback/"),
        ("/\\evil.example", "/fallback/"),
        ("javascript:alert(1)", "/fallback/"),
        ("/board/\x00", "/fallback/"),
        ("", "/fallback/"),
        (None, "/fallback/"),
    ],
)
def test_safe_next_follows_only_a_path_of_this_site(url, expected):
    request = RequestFactory().post("/")
    assert http.safe_next(request, url, "/fallback/") == expected


def test_safe_next_resolves_a_url_name_default():
    request = RequestFactory().post("/")
    assert http.safe_next(request, "x", "flows:board") == reverse("flows:board")


@pytest.mark.parametrize("next_url", ["x", "board", "//evil.example"])
def test_a_committed_move_with_a_bad_next_goes_to_the_case(
    client, manager, default_flow, next_url
):
    case = CaseFactory(flow=default_flow, owner=manager)
    client.force_login(manager)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {
            "target": "perdu",
            "reason": "Doublon",
            "expected_status": "nouveau",
            "next": next_url,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    case.refresh_from_db()
    assert case.status == "perdu"


@pytest.mark.parametrize("next_url", ["x", "//evil.example"])
def test_a_committed_reassignment_with_a_bad_next_goes_to_the_case(
    client, manager, member, default_flow, next_url
):
    case = CaseFactory(flow=default_flow, owner=manager)
    client.force_login(manager)
    response = client.post(
        reverse("flows:case_assign", args=[case.reference]),
        {"owner": member.pk, "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    case.refresh_from_db()
    assert case.owner == member


def test_the_second_step_ignores_a_next_without_a_slash(client, member):
    client.force_login(member)
    response = client.get(reverse("account:verify"), {"next": "x"})
    assert response.status_code < 500


# --- NUL bytes ---------------------------------------------------------------------


def test_a_nul_byte_in_the_path_is_refused(client, manager, default_flow):
    client.force_login(manager)
    response = client.get("/cases/2026-0001\x00/")
    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()


def test_a_nul_byte_in_the_query_string_is_refused(client, manager, default_flow):
    client.force_login(manager)
    assert client.get(reverse("flows:board"), {"q": "a\x00b"}).status_code == 400
    assert client.get(reverse("flows:board") + "?a%00=1").status_code == 400


def test_a_nul_byte_in_a_checklist_note_is_refused_and_nothing_saved(
    client, manager, default_flow
):
    """checklist_toggle reads request.POST["note"] without a form."""
    case = CaseFactory(flow=default_flow, owner=manager)
    item = ChecklistItem.objects.filter(status__flow=default_flow).first()
    client.force_login(manager)
    response = client.post(
        reverse("flows:checklist_toggle", args=[case.reference, item.pk]),
        {"done": "1", "note": "ok\x00"},
    )
    assert response.status_code == 400
    assert not case.checklist_states.exists()


def test_a_nul_byte_in_a_new_case_email_is_refused(client, manager, default_flow):
    client.force_login(manager)
    response = client.post(
        reverse("flows:case_new"),
        {"title": "Alpha", "company": "Alpha", "email": "a\x00@b.fr"},
    )
    assert response.status_code == 400
    duplicates = client.get(reverse("flows:case_duplicates"), {"email": "a\x00@b.fr"})
    assert duplicates.status_code == 400


def test_a_nul_byte_in_an_uploaded_file_is_left_to_the_view(
    client, manager, default_flow
):
    """File contents are not form values: the import refuses them itself."""
    client.force_login(manager)
    data = "Société;E-mail\r\nAlpha\x00;a@b.fr\r\n".encode()
    response = client.post(
        reverse("flows:import_upload"),
        {"file": SimpleUploadedFile("clients.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 200
    assert "pas un fichier texte CSV" in response.content.decode()
    assert not ImportRun.objects.exists()


# --- The POST fuzz of every URL pattern --------------------------------------------

# Names views read from request.POST without a form (grep "request.POST").
RAW_FIELDS = {"next", "note", "done", "version", "edit_version", "action", "previewed"}
APPS = ("flows", "documents", "config", "audit", "django.contrib.auth")
JUNK = [
    "a\x00b",
    "9" * 40,
    "-1.5e9999",
    "x" * 10_000,
    "É漢字🙂\u202e\u200b",
    "",
]
NEXTS = ["x", "//evil.example", "https://evil.example/", "board"]
# The admin is Django's own code and the manager cannot open it.
FUZZED_ROUTES = [
    (route, name) for route, name in ROUTES if not route.startswith("admin/")
]


def _field_names() -> set[str]:
    """Every field of the project's forms (and of the auth forms it uses)."""
    names, stack = set(RAW_FIELDS), [forms.BaseForm]
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        if form.__module__.startswith(APPS):
            names.update(getattr(form, "base_fields", {}))
    return names


FIELD_NAMES = sorted(_field_names())


def _posts():
    """Every field at once with the same junk value, `next` cycling through
    the values that left the site or answered 500."""
    for index, value in enumerate(JUNK):
        data = dict.fromkeys(FIELD_NAMES, value)
        data["next"] = NEXTS[index % len(NEXTS)]
        yield data


def test_the_fuzz_knows_the_fields_views_read():
    assert {"next", "note", "target", "email", "owner", "body"} <= set(FIELD_NAMES)


def _fuzz(client, persona, path: str) -> list[str]:
    """The POSTs of `path` that answered 500, as `persona` (None: anonymous)."""
    failures = []
    for index, data in enumerate(_posts()):
        # A route may log out (logout, the end of the sessions).
        client.logout()
        if persona is not None:
            client.force_login(persona)
        # Every other POST as HTMX: its fragments are other code paths (and
        # lighter to render than whole pages, which keeps the fuzz quick).
        headers = {"HX-Request": "true"} if index % 2 else {}
        response = client.post(path, data, headers=headers)
        if response.status_code >= 500:
            value = data[FIELD_NAMES[0]][:12]
            failures.append(
                f"{persona} POST {path} {value!r} next={data['next']} {headers}"
            )
    return failures


def test_no_post_answers_500(client, member, manager, default_flow, import_token):
    """Each route, as a member, a manager and anonymous, with junk in every
    field: 0 answers of 500 (a fuzz found 36 in 2,171 POSTs)."""
    case = CaseFactory(flow=default_flow, owner=member)
    item = ChecklistItem.objects.filter(status__flow=default_flow).first()
    client.raise_request_exception = False
    failures = []
    for route, name in FUZZED_ROUTES:
        real = _real_path(route, reference=case.reference, token=import_token)
        real = real.replace("/checklist/1/", f"/checklist/{item.pk}/")
        # Anonymous POSTs to a private page stop at the login redirect
        # (test_access proves it): fuzzing them would only slow this down.
        personas = (
            (member, manager, None) if name in PUBLIC_NAMES else (member, manager)
        )
        for path in sorted({_example_path(route), real}):
            for persona in personas:
                failures += _fuzz(client, persona, path)
    assert failures == []


def test_an_overlong_username_is_a_form_error_not_a_500(client, default_flow):
    """django-axes stores the username in a varchar(255): on PostgreSQL a
    10,000-character one raised StringDataRightTruncation."""
    client.raise_request_exception = False
    response = client.post(
        reverse("login"), {"username": "x" * 10_000, "password": "secret"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]

"""Every number read from the query string goes through config.http.query_int.

The fuzz walks the URLconf: no GET parameter a view reads may turn a junk
value (too many digits, a sign, letters, other scripts' digits) into a 500.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import reverse

from config import http
from flows.engine import selectors
from flows.models import ImportRun
from tests.config.test_access import ROUTES, _example_path
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

# Every name a view reads from request.GET (grep "request.GET", "query.get").
PARAMETERS = [
    "owner",
    "q",
    "stale",
    "overdue",
    "waiting",
    "page",
    "show",
    "edit",
    "after",
    "format",
    "days",
    "figure",
    "status",
    "guard",
    "reason",
    "before",
    "actor",
    "action",
    "case",
    "since",
    "until",
    "merci",
    "email",
    "phone",
    "company",
]
FORTY_DIGITS = "9" * 40
JUNK = [FORTY_DIGITS, "9" * 18, "-1", "abc", "١٢", "²", "1e9999", "3_0", ""]
# A board column's cursor is "<ISO time>|<pk>": the pk is a number too.
CURSORS = [f"2026-01-01T00:00:00+00:00|{FORTY_DIGITS}", "2026-01-01|١٢", "|"]
# Pages that stop early on a wrong value of these: fuzz the others behind
# a valid one, so that the early stop hides nothing.
VALID = {"figure": "overdue", "format": "excel", "days": "30"}
# The admin parses its own query string (Django's code) and the manager
# cannot open it.
FUZZED_ROUTES = [
    (route, name) for route, name in ROUTES if not route.startswith("admin/")
]


def _queries():
    """Each junk value in every parameter at once, the gates kept valid, then
    in the gates too. Besides the gates, no parameter's junk stops a page
    before it reads the others, so this finds what one request per parameter
    would, in a tenth of the requests."""
    for value in JUNK + CURSORS:
        junk = dict.fromkeys(PARAMETERS, value)
        yield junk | VALID
        yield junk


def _real_path(route: str, *, reference: str, token: str) -> str:
    """The route with real objects where it takes them (else dummy values)."""
    path = route.replace("<str:reference>", reference)
    path = path.replace("<slug:code>", "nouveau")
    path = path.replace("import/<str:token>", f"import/{token}")
    return _example_path(path)


@pytest.fixture
def import_token(client, manager, default_flow) -> str:
    client.force_login(manager)
    data = "Société;E-mail\r\nAlpha;pas-un-email\r\n".encode()
    client.post(
        reverse("flows:import_upload"),
        {"file": SimpleUploadedFile("clients.csv", data, content_type="text/csv")},
    )
    return ImportRun.objects.get().token


@pytest.mark.parametrize(
    ("route", "name"), FUZZED_ROUTES, ids=[r for r, _n in FUZZED_ROUTES]
)
def test_no_query_parameter_value_answers_500(
    client, manager, default_flow, import_token, route, name
):
    case = CaseFactory(flow=default_flow, owner=manager)
    assert re.fullmatch(r"\d{4}-\d{4}", case.reference)
    paths = {
        _example_path(route),
        _real_path(route, reference=case.reference, token=import_token),
    }
    client.raise_request_exception = False
    for path in sorted(paths):
        for query in _queries():
            client.force_login(manager)  # a route may log out (GET is refused)
            response = client.get(path, query)
            assert response.status_code < 500, f"{path}?{query}"


@pytest.mark.parametrize("value", JUNK)
def test_case_page_timeline_ignores_a_junk_page(client, manager, default_flow, value):
    case = CaseFactory(flow=default_flow, owner=manager)
    client.force_login(manager)
    response = client.get(case.get_absolute_url(), {"page": value})
    assert response.status_code == 200
    assert response.context["timeline_page"] == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        ("0", 0),
        ("-3", -3),
        (" 7 ", 7),
        ("+5", 5),
        ("007", 7),
        (FORTY_DIGITS, None),  # more than 18 digits: no database holds it
        ("١٢", None),  # Python's int() reads other scripts' digits: refused
        ("²", None),  # str.isdigit() says yes, int() raises
        ("3_0", None),  # int() reads underscores
        ("1e9999", None),
        ("1.5", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_int_reads_ascii_decimal_integers_only(raw, expected):
    assert http.parse_int(raw) == expected


def test_parse_int_bounds_give_the_default():
    assert http.parse_int("0", minimum=1, default=1) == 1
    assert http.parse_int("-1", minimum=0) is None
    assert http.parse_int("31", maximum=30, default=30) == 30
    assert http.parse_int("30", minimum=1, maximum=30) == 30
    assert http.parse_int("abc", default=4) == 4


def test_query_int_reads_one_parameter():
    query = QueryDict("page=3&owner=abc&before=" + FORTY_DIGITS)
    assert http.query_int(query, "page", default=1) == 3
    assert http.query_int(query, "owner") is None
    assert http.query_int(query, "before") is None
    assert http.query_int(query, "missing", default=2) == 2


@pytest.mark.parametrize("value", [FORTY_DIGITS, "١٢", "²", "-1", "0", "abc"])
def test_board_filters_ignore_an_owner_that_is_no_id(value):
    assert selectors.BoardFilters.from_query(QueryDict(f"owner={value}")).owner == (
        "all"
    )


def test_board_filters_keep_a_valid_owner():
    filters = selectors.BoardFilters.from_query(QueryDict("owner=12"))
    assert filters.owner == "12"
    assert filters.owner_id == 12
    assert selectors.BoardFilters.from_query(QueryDict("owner=mine")).owner == "mine"
    assert selectors.BoardFilters().owner_id is None

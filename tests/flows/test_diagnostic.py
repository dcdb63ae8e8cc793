"""The ten-statement self-test: answers, score, meaning, history, team average."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from config import clock
from flows.insights import diagnostic as self_test
from flows.models import DiagnosticResult
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
URL = reverse("flows:diagnostic")


def _answers(yes: set[int]) -> dict:
    return {f"q{n}": "yes" if n in yes else "no" for n in range(1, 11)}


def test_the_page_asks_the_ten_statements_with_what_measures_them(client, member):
    client.force_login(member)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert len(self_test.STATEMENTS) == 10
    assert html.count('type="radio"') == 20
    assert html.count("<legend>") == 10
    assert "Personne ne sait précisément ce qui prend le temps de l" in html
    assert "Mesuré par" in html
    # A member is sent to pages they can open, never to the insights.
    assert "/insights/" not in html
    assert f'href="{reverse("flows:today")}"' in html


def test_a_manager_is_sent_to_the_figure_that_measures_it(client, manager):
    client.force_login(manager)
    html = client.get(URL).content.decode()
    assert 'href="/insights/#time-in-status"' in html
    assert 'href="/insights/#dependency"' in html
    assert 'href="/insights/#money-at-risk"' in html


@pytest.mark.parametrize(
    ("yes", "score", "system"),
    [(set(), 0, False), ({1, 2, 3}, 3, False), ({1, 5, 7, 8}, 4, True)],
)
def test_answering_gives_the_score_and_its_meaning(client, member, yes, score, system):
    client.force_login(member)
    response = client.post(URL, _answers(yes))
    assert response.status_code == 302
    result = DiagnosticResult.objects.get()
    assert (result.user, result.score) == (member, score)
    assert result.answers == [n in yes for n in range(1, 11)]
    html = client.get(response["Location"]).content.decode()
    assert f"{score} « oui » sur 10" in html
    assert ("le système, pas l&#x27;effort" in html) is system


def test_an_incomplete_sheet_is_refused(client, member):
    client.force_login(member)
    data = _answers({1})
    del data["q4"]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "Répondez par oui ou par non." in response.content.decode()
    assert not DiagnosticResult.objects.exists()


def test_past_results_are_kept_with_their_date(client, member):
    with clock.frozen_at(timezone.now() - timedelta(days=60)):
        self_test.record_diagnostic(user=member, answers=[True] * 6 + [False] * 4)
    self_test.record_diagnostic(user=member, answers=[True] * 2 + [False] * 8)
    client.force_login(member)
    response = client.get(URL)
    html = response.content.decode()
    assert [r.score for r in response.context["past"]] == [2, 6]
    assert "Vos résultats précédents" in html
    assert "2 « oui » sur 10" in html  # the latest one is the result shown


def test_managers_see_the_team_average_of_latest_results(
    client, member, other_member, manager
):
    with clock.frozen_at(timezone.now() - timedelta(days=30)):
        self_test.record_diagnostic(user=member, answers=[True] * 10)
    self_test.record_diagnostic(user=member, answers=[True] * 4 + [False] * 6)
    self_test.record_diagnostic(user=other_member, answers=[True] * 2 + [False] * 8)
    team = self_test.team_diagnostic()
    assert (team.people, team.average, team.at_or_above_threshold) == (2, 3.0, 1)
    assert team.yes_share[:5] == [1.0, 1.0, 0.5, 0.5, 0.0]
    client.force_login(manager)
    html = client.get(URL).content.decode()
    assert (
        "Moyenne de l&#x27;équipe : 3,0" in html or "Moyenne de l'équipe : 3,0" in html
    )
    client.force_login(member)
    assert "Moyenne de l" not in client.get(URL).content.decode()


def test_record_diagnostic_wants_ten_answers(member):
    with pytest.raises(ValueError):
        self_test.record_diagnostic(user=member, answers=[True] * 9)


def test_the_diagnostic_is_for_team_members(client, django_user_model):
    outsider = make_user(django_user_model, "outsider", None)
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied").exists()

"""Large imports: a background task, a progress bar, the same all-or-none import."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache, caches
from django.urls import reverse

from audit.models import AuditEvent
from flows.intake import imports
from flows.models import Case, ImportRun
from tests.flows.test_imports import FRENCH_HEADERS, _upload, csv_bytes
from tests.tasks import failed_tasks, run_tasks

pytestmark = pytest.mark.django_db

ROWS = [[f"Société {n}", "", f"c{n}@example.fr", "", "", "", "", ""] for n in range(12)]


def _import_form(page, manager) -> dict:
    return {
        **{f"col_{i}": t for i, t in imports.guess_mapping(FRENCH_HEADERS).items()},
        "status": "nouveau",
        "owner": str(manager.pk),
        "skip_duplicates": "on",
        "previewed": page.context["fingerprint"],
        "action": "import",
    }


def _start(client, manager, data=None):
    client.force_login(manager)
    _upload(client, data or csv_bytes(ROWS))
    run_ = ImportRun.objects.get()
    url = reverse("flows:import_preview", args=[run_.token])
    response = client.post(url, _import_form(client.get(url), manager))
    return run_, response


def test_a_large_file_goes_to_a_task_and_the_page_shows_its_progress(
    client, default_flow, manager, settings
):
    settings.IMPORT_BACKGROUND_ROWS = 10
    run_, response = _start(client, manager)
    progress_url = reverse("flows:import_progress", args=[run_.token])
    assert response["Location"] == progress_url
    run_.refresh_from_db()
    assert run_.state == ImportRun.State.RUNNING and run_.result == {"total": 12}
    assert not Case.objects.exists()  # nothing before the task ran

    page = client.get(progress_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<progress id="import-bar" max="12" value="0">' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<meta http-equiv="refresh" content="3">' in html  # without JavaScript
    # The preview of a running import leads to its progress; a second
    # click starts nothing more.
    assert (
        client.get(reverse("flows:import_preview", args=[run_.token]))["Location"]
        == progress_url
    )
    assert (
        imports.start(
            run_, imports.Options.from_json(run_.options), user=manager, total=12
        )
        is False
    )

    assert run_tasks() == 1
    assert Case.objects.count() == 12
    assert AuditEvent.objects.filter(action="import").count() == 1
    # Polling now sends the browser to the result.
    polled = client.get(progress_url, headers={"HX-Request": "true"})
    assert polled["HX-Redirect"] == reverse("flows:import_done", args=[run_.token])
    assert client.get(progress_url)["Location"] == reverse(
        "flows:import_done", args=[run_.token]
    )


def test_a_small_file_is_still_imported_in_the_request(
    client, default_flow, manager, settings
):
    settings.IMPORT_BACKGROUND_ROWS = 100
    run_, response = _start(client, manager)
    assert response["Location"] == reverse("flows:import_done", args=[run_.token])
    assert Case.objects.count() == 12


def test_the_progress_is_written_where_the_page_reads_it(
    client, default_flow, manager, settings, monkeypatch
):
    settings.IMPORT_BACKGROUND_ROWS = 10
    monkeypatch.setattr(imports.running, "PROGRESS_EVERY", 5)
    run_, _response = _start(client, manager)
    seen = []
    real_set = cache.set

    def record(key, value, *args, **kwargs):
        if key == imports.background.progress_key(run_):
            seen.append(value)
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", record)
    run_tasks()
    assert seen == [5, 10]
    assert cache.get(imports.background.progress_key(run_)) is None  # cleared


def test_a_refused_file_goes_back_to_the_preview_with_its_reason(
    client, default_flow, manager, settings
):
    settings.IMPORT_BACKGROUND_ROWS = 10
    run_, _response = _start(client, manager)
    settings.IMPORT_MAX_ROWS = 5  # the file no longer does, when the task reads it
    run_tasks()
    run_.refresh_from_db()
    assert run_.state == ImportRun.State.UPLOADED
    assert "plus de 5 lignes" in run_.result["error"]
    assert not Case.objects.exists() and not failed_tasks()
    page = client.get(reverse("flows:import_progress", args=[run_.token]), follow=True)
    assert "Rien n&#x27;a été importé" in page.content.decode()


@pytest.mark.skipif(
    not os.environ.get("REDIS_TEST_URL") and os.environ.get("CI") != "true",
    reason="REDIS_TEST_URL is not set (CI sets it)",
)
def test_with_a_shared_cache_the_page_shows_how_far_the_worker_got(
    client, default_flow, manager, settings
):
    """The page and the worker are different processes: Redis joins them."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_TEST_URL"],
        }
    }
    settings.IMPORT_BACKGROUND_ROWS = 10
    run_, _response = _start(client, manager)
    caches["default"].set(imports.background.progress_key(run_), 8, 60)
    html = client.get(reverse("flows:import_progress", args=[run_.token])).content
    assert b'<progress id="import-bar" max="12" value="8">' in html
    caches["default"].delete(imports.background.progress_key(run_))

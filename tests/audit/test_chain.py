"""The audit chain: append-only, tamper-evident, linear under concurrency."""

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import services, triggers
from audit.models import AppendOnlyError, AuditEvent, AuditVerification
from config import logs
from flows.engine import services as flow_services

pytestmark = pytest.mark.django_db


def _append(count: int) -> list[AuditEvent]:
    return [services.record("test_event", data={"n": n}) for n in range(count)]


def _verify(*args) -> tuple[int, str]:
    """Run audit_verify; return (exit code, what it printed)."""

    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        return 0, out.getvalue()
    except SystemExit as exit_:
        return exit_.code, err.getvalue()


class _TriggersOff:
    """Tampering as a database superuser would: triggers disabled."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Deferred foreign-key checks would block the ALTER TABLE.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {triggers.EVENT} DISABLE TRIGGER USER")
            else:
                for statement in triggers.SQLITE_DROP:
                    cursor.execute(statement)
        return connection.cursor()

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {triggers.EVENT} ENABLE TRIGGER USER")
            else:
                for statement in triggers.SQLITE_CREATE:
                    cursor.execute(statement)


def test_events_chain_from_genesis():
    events = _append(3)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert (
        events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    )
    assert services.head() == (3, events[2].hash)
    assert _verify() == (0, f"Audit chain intact: 3 events, head 3:{events[2].hash}\n")
    assert AuditVerification.objects.get().ok


def test_recording_costs_at_most_two_queries(django_assert_num_queries):
    services.record("warm_up")
    # PostgreSQL: one statement locks the head, chains and inserts. SQLite
    # (one writer at a time anyway): lock the head, insert; a trigger moves it.
    expected = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(expected):
        services.record("counted")
    assert services.verify_chain().ok


def test_the_orm_cannot_update_or_delete():
    event = _append(1)[0]
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {triggers.EVENT} SET action = 'changed'",
        f"DELETE FROM {triggers.EVENT}",
    ],
)
def test_raw_sql_cannot_update_or_delete(sql):
    _append(2)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
    assert _verify()[0] == 0


def test_tampered_payload_is_detected():
    _append(5)
    with _TriggersOff() as cursor:
        cursor.execute(
            f"UPDATE {triggers.EVENT} SET data = %s WHERE sequence = 3", ['{"n": 99}']
        )
    code, output = _verify()
    assert code == 1
    assert "BROKEN at event 3" in output and "modified" in output


# The content hashed before events had a request id.
LEGACY_KEYS = {
    "at",
    "actor",
    "actor_label",
    "action",
    "case",
    "object_type",
    "object_id",
    "data",
    "ip",
    "user_agent",
}


def test_the_request_id_is_hashed_only_when_there_is_one(monkeypatch):
    """An event without one (a command, every event older than the field)
    hashes the same content as before; a stored id cannot change unseen."""
    plain = services.record("test_event")
    assert plain.request_id == ""
    assert set(json.loads(services.canonical(plain))) == LEGACY_KEYS
    monkeypatch.setattr(logs, "current_request_id", lambda: "edge-1")
    tagged = services.record("test_event")
    tagged.refresh_from_db()
    assert tagged.request_id == "edge-1"
    assert json.loads(services.canonical(tagged))["request_id"] == "edge-1"
    assert _verify()[0] == 0
    with _TriggersOff() as cursor:
        cursor.execute(
            f"UPDATE {triggers.EVENT} SET request_id = 'edge-2' WHERE sequence = 2"
        )
    code, output = _verify()
    assert code == 1
    assert "BROKEN at event 2" in output and "modified" in output


def test_deleted_row_is_detected():
    _append(5)
    with _TriggersOff() as cursor:
        cursor.execute(f"DELETE FROM {triggers.EVENT} WHERE sequence = 2")
    code, output = _verify()
    assert code == 1 and "BROKEN at event 2" in output and "missing" in output


def test_deleted_last_row_is_detected_by_the_head():
    _append(4)
    with _TriggersOff() as cursor:
        cursor.execute(f"DELETE FROM {triggers.EVENT} WHERE sequence = 4")
    code, output = _verify()
    assert code == 1 and "BROKEN at event 4" in output


def test_swapped_rows_are_detected():
    _append(5)
    with _TriggersOff() as cursor:
        # Swap the contents of events 2 and 3, numbers kept in place.
        cursor.execute(
            f"UPDATE {triggers.EVENT} SET sequence = 1000 WHERE sequence = 2"
        )
        cursor.execute(f"UPDATE {triggers.EVENT} SET sequence = 2 WHERE sequence = 3")
        cursor.execute(
            f"UPDATE {triggers.EVENT} SET sequence = 3 WHERE sequence = 1000"
        )
    code, output = _verify()
    assert code == 1 and "BROKEN at event 2" in output


def test_rehashed_row_without_the_following_ones_is_detected():
    events = _append(5)
    target = events[2]  # sequence 3
    target.data = {"n": 42}
    new_hash = services.compute_hash(target.prev_hash, target)
    with _TriggersOff() as cursor:
        cursor.execute(
            f"UPDATE {triggers.EVENT} SET data = %s, hash = %s WHERE sequence = 3",
            ['{"n": 42}', new_hash],
        )
    code, output = _verify()
    # Event 3 checks out on its own; event 4 no longer follows it.
    assert code == 1 and "BROKEN at event 4" in output and "prev_hash" in output


def test_checkpoint_round_trip():
    _append(3)

    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    checkpoint = out.getvalue().split()[0]
    assert _verify("--checkpoint", checkpoint)[0] == 0
    sequence = checkpoint.split(":")[0]
    code, output = _verify("--checkpoint", f"{sequence}:{'f' * 64}")
    assert code == 1 and "checkpoint" in output
    code, output = _verify("--checkpoint", f"99:{'f' * 64}")
    assert code == 1 and "not in the chain" in output


def test_a_failed_business_transaction_leaves_no_event(default_flow, member):

    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        flow_services.create_case(
            flow=default_flow,
            user=member,
            owner=member,
            title="Annulé",
            next_action="Rappeler",
            next_action_due=timezone.localdate(),
        )
        raise RuntimeError("the business change fails after the event was written")
    assert AuditEvent.objects.count() == before
    assert _verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_eight_threads_append_one_linear_chain():
    count, per_thread = 8, 5
    barrier = threading.Barrier(count)
    errors = []

    def work(index):
        try:
            barrier.wait(timeout=10)
            for n in range(per_thread):
                services.record("concurrent", data={"thread": index, "n": n})
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sequences = list(AuditEvent.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, count * per_thread + 1))
    report = services.verify_chain()
    assert report.ok, report.reason

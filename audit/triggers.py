"""Database triggers: events refuse UPDATE and DELETE; inserts move the head.

Used by the migration, and by the test suite, which must drop the SQLite
delete trigger around the flushes of transactional tests (PostgreSQL flushes
with TRUNCATE, which row triggers do not see).
"""

EVENT = "audit_auditevent"
HEAD = "audit_auditchainhead"

SQLITE_NO_DELETE = f"""
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {EVENT}
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"""

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {EVENT}
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    """,
    SQLITE_NO_DELETE,
    f"""
    CREATE TRIGGER audit_event_move_head AFTER INSERT ON {EVENT}
    BEGIN UPDATE {HEAD} SET sequence = NEW.sequence, hash = NEW.hash WHERE id = 1; END;
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
    "DROP TRIGGER IF EXISTS audit_event_move_head;",
]

POSTGRES_CREATE = [
    """
    CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit events are append-only';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON {EVENT}
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse();
    """,
    f"""
    CREATE OR REPLACE FUNCTION audit_event_move_head() RETURNS trigger AS $$
    BEGIN
      UPDATE {HEAD} SET sequence = NEW.sequence, hash = NEW.hash WHERE id = 1;
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER audit_event_move_head AFTER INSERT ON {EVENT}
    FOR EACH ROW EXECUTE FUNCTION audit_event_move_head();
    """,
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_event_no_update_delete ON {EVENT};",
    f"DROP TRIGGER IF EXISTS audit_event_move_head ON {EVENT};",
    "DROP FUNCTION IF EXISTS audit_event_refuse();",
    "DROP FUNCTION IF EXISTS audit_event_move_head();",
]


def create(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(
        vendor, []
    ):
        schema_editor.execute(statement)


def drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(
        vendor, []
    ):
        schema_editor.execute(statement)

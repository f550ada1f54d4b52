"""The audit log refuses every way of changing it, in the ORM and, on PostgreSQL, TRUNCATE too.

- The model's base manager becomes its guarded one (`objects`): Django saves and deletes
  through the base manager, which was a plain one.
- On PostgreSQL a statement-level trigger refuses `TRUNCATE audit_auditevent` (and a
  `TRUNCATE ... CASCADE` that reaches it), beside the row triggers of 0002, which TRUNCATE
  does not fire. It lets a TRUNCATE through only when the session says so on purpose:
  `SET b12.allow_audit_truncate = 'on'` (or `SET LOCAL` inside a transaction). Who says so:
  the test suite, for its own throwaway test database only (`ALTER DATABASE test_... SET`,
  in tests/conftest.py), because Django empties the tables between transactional tests with
  one TRUNCATE of every table; and the benchmarks, in their own databases. A production
  session never sets it, so `manage.py flush` or a stray TRUNCATE there is refused.
  Naming the test database in the trigger instead would protect a production database less
  the day someone names it test_something; a setting has to be asked for.

SQLite (the zero-setup default) has no TRUNCATE and relies on the model and queryset guards.
"""

from django.db import migrations

SETTING = "b12.allow_audit_truncate"

CREATE = f"""
CREATE OR REPLACE FUNCTION audit_event_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('{SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: TRUNCATE refused'
        USING HINT = 'SET {SETTING} = ''on'' in a session meant to empty it';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_refuse_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_event_refuse_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_truncate();
"""


def _run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={"base_manager_name": "objects", "ordering": ["-at", "-id"]},
        ),
        migrations.RunPython(_run_on_postgresql(CREATE), _run_on_postgresql(DROP)),
    ]

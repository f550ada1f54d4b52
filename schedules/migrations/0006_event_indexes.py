"""Fewer indexes on injection events: each is paid for on every planned dose written.

Dropped, because another index leads with the same column: the single-column indexes on
prescription_id (event_rx_status_due), phase_id (event_unique_per_phase_dose, now phase
first) and, on lab orders and lab results, prescription_id and patient_id
(lab_order_unique_due, labresult_patient_taken). due_at and logged_by_id become partial:
only planned doses are looked up by due time across prescriptions, and only logged doses
have a logger. The foreign keys themselves stay; only their indexes go, so the database
operations drop indexes and leave the constraints alone (altering the fields would drop
and re-validate every foreign key).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED_INDEXES = [
    ("schedules_injectionevent", "due_at", "schedules_injectionevent_due_at_41434181"),
    ("schedules_injectionevent", "logged_by_id", "schedules_injectionevent_logged_by_id_20843877"),
    ("schedules_injectionevent", "phase_id", "schedules_injectionevent_phase_id_d5495b35"),
    (
        "schedules_injectionevent",
        "prescription_id",
        "schedules_injectionevent_prescription_id_71ebb4b3",
    ),
    ("schedules_laborder", "prescription_id", "schedules_laborder_prescription_id_a1542ecb"),
    ("schedules_labresult", "patient_id", "schedules_labresult_patient_id_0978f7f3"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0002_clinic_escalate_missed_loading_and_more"),
        ("schedules", "0005_care_pause_stop_resume"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="injectionevent",
            name="event_unique_per_phase_dose",
        ),
        migrations.AddConstraint(
            model_name="injectionevent",
            constraint=models.UniqueConstraint(
                fields=("phase", "sequence", "prescription"), name="event_unique_per_phase_dose"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in DROPPED_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="injectionevent",
                    name="due_at",
                    field=models.DateTimeField(),
                ),
                migrations.AlterField(
                    model_name="injectionevent",
                    name="logged_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="injectionevent",
                    name="phase",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="schedules.prescriptionphase",
                    ),
                ),
                migrations.AlterField(
                    model_name="injectionevent",
                    name="prescription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="schedules.prescription",
                    ),
                ),
                migrations.AlterField(
                    model_name="laborder",
                    name="prescription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lab_orders",
                        to="schedules.prescription",
                    ),
                ),
                migrations.AlterField(
                    model_name="labresult",
                    name="patient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="labs",
                        to="clinics.patient",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="injectionevent",
            index=models.Index(
                condition=models.Q(("status", "planned")),
                fields=["due_at"],
                name="event_planned_due",
            ),
        ),
        migrations.AddIndex(
            model_name="injectionevent",
            index=models.Index(
                condition=models.Q(("logged_by__isnull", False)),
                fields=["logged_by"],
                name="event_logged_by",
            ),
        ),
    ]

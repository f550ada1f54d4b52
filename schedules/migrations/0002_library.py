"""Loads the built-in protocol library (clinical-rules.md section 1) and the medications."""

from decimal import Decimal

from django.db import migrations

from schedules.library import MEDICATIONS, PROTOCOLS


def load(apps, schema_editor):
    Medication = apps.get_model("schedules", "Medication")
    Regimen = apps.get_model("schedules", "Regimen")
    Phase = apps.get_model("schedules", "Phase")
    medications = {}
    for row in MEDICATIONS:
        medications[row["slug"]], _ = Medication.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "strength_mcg_per_ml": Decimal(row["strength_mcg_per_ml"]),
            },
        )
    for protocol in PROTOCOLS:
        regimen, _ = Regimen.objects.update_or_create(
            slug=protocol["slug"],
            clinic=None,
            defaults={
                "name": protocol["name"],
                "medication": medications[protocol["medication"]],
                "sources": protocol["sources"],
            },
        )
        regimen.phases.all().delete()
        for position, phase in enumerate(protocol["phases"], start=1):
            Phase.objects.create(regimen=regimen, position=position, **phase)


def unload(apps, schema_editor):
    Regimen = apps.get_model("schedules", "Regimen")
    Regimen.objects.filter(clinic=None, slug__in=[p["slug"] for p in PROTOCOLS]).delete()


class Migration(migrations.Migration):
    dependencies = [("schedules", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]

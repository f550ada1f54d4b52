from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Flag(models.Model):
    """Something a nurse must look at. Exactly one open flag per patient and cause: a cause
    that recurs while its flag is open updates that flag instead of opening another."""

    class Cause(models.TextChoices):
        MISSED_DOSE = "missed_dose", _("Missed doses")
        DOSE_OVERDUE = "dose_overdue", _("Dose overdue")
        LAB_OVERDUE = "lab_overdue", _("Lab check overdue")
        B12_DEFICIENT = "b12_deficient", _("B12 deficient")
        B12_BORDERLINE = "b12_borderline", _("B12 borderline: consider MMA")
        HOMOCYSTEINE_HIGH = "homocysteine_high", _("Homocysteine above target")
        PLATELETS_LOW = "platelets_low", _("Platelets below 25: home injections paused")
        NEURO_SYMPTOMS = "neuro_symptoms", _("Neurological symptoms reported")
        OPEN_PHASE_REVIEW = "open_phase_review", _("Open phase due for review")
        RENAL_CYANO = "renal_cyano", _("Renal impairment on cyanocobalamin")
        REMINDERS_FAILING = "reminders_failing", _("Reminders cannot be delivered")

    class Urgency(models.IntegerChoices):
        URGENT = 1, _("urgent")
        HIGH = 2, _("high")
        ROUTINE = 3, _("routine")

    patient = models.ForeignKey("clinics.Patient", on_delete=models.PROTECT, related_name="flags")
    prescription = models.ForeignKey(
        "schedules.Prescription",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flags",
    )
    cause = models.CharField(max_length=24, choices=Cause.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    summary = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["urgency", "opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "cause"],
                condition=Q(resolved_at__isnull=True),
                name="flag_one_open_per_cause",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | (Q(resolved_by__isnull=False) & ~Q(resolution_note="")),
                name="flag_resolution_has_who_and_note",
            ),
        ]
        indexes = [
            models.Index(
                fields=["urgency", "opened_at"],
                condition=Q(resolved_at__isnull=True),
                name="flag_open_queue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.get_cause_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class SymptomReport(models.Model):
    """What a patient reports; neurological symptoms flag the nurse (section 4)."""

    class Symptom(models.TextChoices):
        TINGLING = "tingling", _("Tingling or numbness")
        WALKING = "walking", _("Trouble walking or with balance")
        MEMORY = "memory", _("Memory or thinking changes")
        TIREDNESS = "tiredness", _("Tiredness")

    NEUROLOGICAL = frozenset({Symptom.TINGLING, Symptom.WALKING, Symptom.MEMORY})

    patient = models.ForeignKey(
        "clinics.Patient", on_delete=models.PROTECT, related_name="symptom_reports"
    )
    symptoms = models.JSONField(default=list)
    notes = models.TextField(blank=True)
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.patient} symptoms {self.reported_at:%Y-%m-%d}"

    @property
    def is_neurological(self) -> bool:
        return bool(self.NEUROLOGICAL.intersection(self.symptoms))

"""Regimens (reusable plans of phases), prescriptions (a patient's frozen copy) and the
dated injection events the scheduler makes of them; lab orders and results.

The words are the house vocabulary: Regimen, Phase, Prescription, InjectionEvent, Dose
(an amount and a unit, never an event), LabOrder, LabResult.
"""

import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinics.validators import validate_time_zone


class Route(models.TextChoices):
    IM = "IM", _("Intramuscular injection")
    INTRANASAL = "intranasal", _("Nasal spray")
    ORAL = "oral", _("By mouth")
    # IV exists only to be refused for cyanocobalamin (clinical rules, section 4).
    IV = "IV", _("Intravenous")


INJECTED_ROUTES = {Route.IM, Route.IV}


class FrequencyKind(models.TextChoices):
    DAYS = "days", _("every N days")
    WEEKDAYS = "weekdays", _("N times a week")
    WEEKS = "weeks", _("every N weeks")
    MONTHS = "months", _("every N calendar months")


class EndKind(models.TextChoices):
    COUNT = "count", _("after a number of doses")
    DAYS = "days", _("after a number of days")
    OPEN = "open", _("until a clinician ends it")
    LIFELONG = "lifelong", _("lifelong")


class Medication(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=60)
    strength_mcg_per_ml = models.DecimalField(
        _("strength (mcg/mL)"), max_digits=7, decimal_places=1, default=Decimal("1000")
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(strength_mcg_per_ml__gt=0), name="medication_strength_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def volume_ml(self, amount: Decimal) -> Decimal:
        """The volume to draw up for an amount, from the vial's strength (1000 mcg/mL)."""
        return (amount / self.strength_mcg_per_ml).quantize(Decimal("0.01"))


class PhaseFields(models.Model):
    """What a phase is, shared by a regimen's phases and a prescription's frozen copy.

    Where the spec gives a range ("every 2-3 months"), `*_min`/`*_max` hold it and the plain
    field holds the library's default; a clinician chooses within it when prescribing.
    """

    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)
    amount = models.DecimalField(max_digits=7, decimal_places=1)
    amount_min = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    amount_max = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    unit = models.CharField(max_length=10, default="mcg")
    route = models.CharField(max_length=12, choices=Route.choices)
    frequency_kind = models.CharField(max_length=10, choices=FrequencyKind.choices)
    frequency_every = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    frequency_every_min = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_every_max = models.PositiveSmallIntegerField(null=True, blank=True)
    # Weekday pattern for "N times a week": 0=Monday. Empty: the spec's default pattern.
    weekdays = models.JSONField(default=list, blank=True)
    end_kind = models.CharField(max_length=10, choices=EndKind.choices)
    end_value = models.PositiveSmallIntegerField(null=True, blank=True)
    end_value_min = models.PositiveSmallIntegerField(null=True, blank=True)
    end_value_max = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["position"]

    @staticmethod
    def phase_constraints(prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(condition=Q(amount__gt=0), name=f"{prefix}_amount_positive"),
            models.CheckConstraint(
                condition=Q(frequency_every__gte=1), name=f"{prefix}_every_positive"
            ),
            models.CheckConstraint(
                condition=Q(route__in=Route.values), name=f"{prefix}_route_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency_kind__in=FrequencyKind.values),
                name=f"{prefix}_frequency_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(end_kind__in=[EndKind.COUNT, EndKind.DAYS], end_value__gte=1)
                    | Q(end_kind__in=[EndKind.OPEN, EndKind.LIFELONG], end_value__isnull=True)
                ),
                name=f"{prefix}_end_consistent",
            ),
        ]

    @property
    def is_injected(self) -> bool:
        return self.route in INJECTED_ROUTES

    @property
    def frequency_text(self) -> str:
        every, kind = self.frequency_every, self.frequency_kind
        if kind == FrequencyKind.WEEKDAYS:
            return ngettext("once a week", "%(n)s times a week", every) % {"n": every}
        units = {
            FrequencyKind.DAYS: ngettext("every day", "every %(n)s days", every),
            FrequencyKind.WEEKS: ngettext("every week", "every %(n)s weeks", every),
            FrequencyKind.MONTHS: ngettext("every month", "every %(n)s months", every),
        }
        text = units[kind] % {"n": every}
        if self.frequency_every_min and self.frequency_every_max:
            text += f" ({self.frequency_every_min}-{self.frequency_every_max})"
        return text

    @property
    def end_text(self) -> str:
        value = self.end_value
        if self.end_kind == EndKind.COUNT:
            text = ngettext("%(n)s dose", "%(n)s doses", value) % {"n": value}
        elif self.end_kind == EndKind.DAYS:
            text = ngettext("for %(n)s day", "for %(n)s days", value) % {"n": value}
        elif self.end_kind == EndKind.OPEN:
            return str(_("until no further improvement"))
        else:
            return str(_("lifelong"))
        if self.end_value_min and self.end_value_max:
            text += f" ({self.end_value_min}-{self.end_value_max})"
        return text

    @property
    def dose_text(self) -> str:
        text = f"{self.amount.normalize():f} {self.unit}"
        if self.amount_min and self.amount_max:
            text += f" ({self.amount_min.normalize():f}-{self.amount_max.normalize():f})"
        return text


class Regimen(models.Model):
    """A reusable plan. Built-in library regimens (no clinic) are read-only; clinic admins
    copy them into editable templates of their clinic."""

    slug = models.SlugField()
    name = models.CharField(max_length=120)
    clinic = models.ForeignKey(
        "clinics.Clinic", on_delete=models.CASCADE, null=True, blank=True, related_name="regimens"
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT)
    description = models.TextField(blank=True)
    sources = models.CharField(
        max_length=60, blank=True, help_text=_("The seed documents it is drawn from.")
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], condition=Q(clinic__isnull=True), name="regimen_library_slug"
            ),
            models.UniqueConstraint(fields=["clinic", "slug"], name="regimen_clinic_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_library(self) -> bool:
        return self.clinic_id is None


class Phase(PhaseFields):
    regimen = models.ForeignKey(Regimen, on_delete=models.CASCADE, related_name="phases")

    class Meta(PhaseFields.Meta):
        constraints = [
            models.UniqueConstraint(fields=["regimen", "position"], name="phase_position_unique"),
            *PhaseFields.phase_constraints("phase"),
        ]

    def __str__(self) -> str:
        return f"{self.regimen} · {self.name}"


class Prescription(models.Model):
    """A patient's instance of a regimen: a frozen copy of its phases (PrescriptionPhase),
    so that editing the template never changes a running prescription."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        STOPPED = "stopped", _("stopped")

    patient = models.ForeignKey(
        "clinics.Patient", on_delete=models.PROTECT, related_name="prescriptions"
    )
    regimen = models.ForeignKey(
        Regimen, on_delete=models.SET_NULL, null=True, blank=True, related_name="prescriptions"
    )
    regimen_slug = models.SlugField()
    regimen_name = models.CharField(max_length=120)
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT)
    start_on = models.DateField(_("first dose on"))
    dose_time = models.TimeField(_("local time of each dose"))
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Clinical facts the safety rules of section 4 need. Platelets come from the latest lab.
    neurological_involvement = models.BooleanField(default=False)
    renal_impairment = models.BooleanField(default=False)
    renal_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    renal_acknowledged_at = models.DateTimeField(null=True, blank=True)
    folic_acid_before_b12 = models.BooleanField(default=False)
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriptions_written"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    planned_until = models.DateField(null=True, blank=True)
    # Who paused or stopped it, when and why (2.8; section 4: stopping a lifelong phase needs
    # a clinician's reason). A pause is cleared on resume; the audit log keeps every one.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pause_reason = models.CharField(max_length=255, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stop_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused", "stopped"]),
                name="prescription_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True, paused_by__isnull=True, pause_reason="")
                | Q(paused_at__isnull=False, paused_by__isnull=False) & ~Q(pause_reason=""),
                name="prescription_pause_complete",
            ),
            models.CheckConstraint(
                condition=Q(stopped_at__isnull=True, stopped_by__isnull=True, stop_reason="")
                | Q(stopped_at__isnull=False, stopped_by__isnull=False) & ~Q(stop_reason=""),
                name="prescription_stop_complete",
            ),
            # Section 4: renal impairment with cyanocobalamin needs a recorded acknowledgement;
            # the service enforces it for cyanocobalamin, the database that it is complete.
            models.CheckConstraint(
                condition=Q(renal_acknowledged_by__isnull=True, renal_acknowledged_at__isnull=True)
                | Q(renal_acknowledged_by__isnull=False, renal_acknowledged_at__isnull=False),
                name="prescription_renal_ack_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.regimen_name}"


class PrescriptionPhase(PhaseFields):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="phases")
    # An open phase ends when a nurse records "no further improvement" (2.7).
    ended_on = models.DateField(null=True, blank=True)

    class Meta(PhaseFields.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "position"], name="prescription_phase_position_unique"
            ),
            *PhaseFields.phase_constraints("prescription_phase"),
        ]

    def __str__(self) -> str:
        return f"{self.prescription} · {self.name}"


class InjectionEvent(models.Model):
    """One dated planned administration and, once logged, what really happened."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        TAKEN = "taken", _("taken")
        SKIPPED = "skipped", _("skipped")
        MISSED = "missed", _("missed")
        CANCELLED = "cancelled", _("cancelled")

    class Site(models.TextChoices):
        LEFT_DELTOID = "left_deltoid", _("Left upper arm (deltoid)")
        RIGHT_DELTOID = "right_deltoid", _("Right upper arm (deltoid)")
        LEFT_THIGH = "left_thigh", _("Left thigh (vastus lateralis)")
        RIGHT_THIGH = "right_thigh", _("Right thigh (vastus lateralis)")
        LEFT_BUTTOCK = "left_buttock", _("Left buttock (upper outer quadrant)")
        RIGHT_BUTTOCK = "right_buttock", _("Right buttock (upper outer quadrant)")

    # The three foreign keys and due_at have no index of their own: the indexes in Meta
    # serve them, and each index is paid for on every one of the many rows a schedule writes.
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    phase = models.ForeignKey(
        PrescriptionPhase, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    sequence = models.PositiveIntegerField(help_text=_("0-based number of the dose in its phase"))
    amount = models.DecimalField(max_digits=7, decimal_places=1)
    unit = models.CharField(max_length=10)
    route = models.CharField(max_length=12, choices=Route.choices)
    due_at = models.DateTimeField()
    due_on = models.DateField(help_text=_("the local date the dose is planned for"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    given_at = models.DateTimeField(null=True, blank=True)
    # The local date it was given, in the zone the patient was in then: 2.7 re-anchors on it,
    # and a later change of time zone must not move it (2.8).
    given_on = models.DateField(null=True, blank=True)
    site = models.CharField(max_length=20, choices=Site.choices, blank=True)
    lot = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    logged_at = models.DateTimeField(null=True, blank=True)
    # A dose skipped because the clinic paused the treatment: the local date it resumed, from
    # which the phase's calendar restarts (schedules.scheduler.doses._advance).
    resumed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # Rebuilding a schedule twice, or in two processes at once, cannot duplicate a dose.
            # Phase first: its index also serves `phase.events` and the check PostgreSQL makes
            # when a phase is deleted; a prescription's events are found by event_rx_status_due.
            models.UniqueConstraint(
                fields=["phase", "sequence", "prescription"], name="event_unique_per_phase_dose"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "taken", "skipped", "missed", "cancelled"]),
                name="event_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="taken") | Q(given_at__isnull=False, given_on__isnull=False),
                name="event_taken_has_given_at",
            ),
        ]
        indexes = [
            # A prescription's events: its pages, the rebuild, and deleting a prescription.
            models.Index(fields=["prescription", "status", "due_at"], name="event_rx_status_due"),
            # Planned doses falling due across every prescription: the missed-dose sweep and
            # reminder planning. Doses already recorded leave this index.
            models.Index(
                fields=["due_at"], condition=Q(status="planned"), name="event_planned_due"
            ),
            # Who logged a dose: only for the PROTECT check when a user is deleted. Planned
            # doses (nearly every row written) have no one yet and stay out of it.
            models.Index(
                fields=["logged_by"],
                condition=Q(logged_by__isnull=False),
                name="event_logged_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prescription} #{self.phase.position}.{self.sequence} {self.status}"


class ScheduleChange(models.Model):
    """Why a prescription's future was rebuilt: who, when and why (2.8)."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    events_removed = models.PositiveIntegerField(default=0)
    events_added = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prescription} · {self.reason}"


class LabTest(models.TextChoices):
    B12 = "b12", _("Serum vitamin B12")
    HOMOCYSTEINE = "homocysteine", _("Total homocysteine")
    CBC = "cbc", _("Complete blood count")
    MMA = "mma", _("Methylmalonic acid")


class LabOrder(models.Model):
    """A monitoring check falling due (section 3)."""

    class Status(models.TextChoices):
        DUE = "due", _("due")
        RESULTED = "resulted", _("resulted")
        CANCELLED = "cancelled", _("cancelled")

    # Indexed by lab_order_unique_due, whose first column it is.
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="lab_orders", db_index=False
    )
    due_on = models.DateField()
    tests = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "due_on"], name="lab_order_unique_due"),
        ]

    def __str__(self) -> str:
        return f"{self.prescription.patient} labs due {self.due_on}"


class LabResult(models.Model):
    """One set of results, each value classified as section 3 says when it is recorded."""

    class B12Status(models.TextChoices):
        DEFICIENT = "deficient", _("deficient (below 180 pg/mL)")
        BORDERLINE = "borderline", _("borderline (180-350 pg/mL): consider MMA")
        NORMAL = "normal", _("normal (above 350 pg/mL)")

    class HomocysteineStatus(models.TextChoices):
        ABOVE_TARGET = "above_target", _("above target (10 umol/L or more)")
        NORMAL = "normal", _("normal (below 10 umol/L)")

    class PlateletStatus(models.TextChoices):
        PAUSE = "pause", _("below 25: at-home injections paused")
        FINE_NEEDLE = "fine_needle", _("25-50: fine needle, press 5-10 minutes")
        STANDARD = "standard", _("standard injection")

    # Indexed by labresult_patient_taken, whose first column it is.
    patient = models.ForeignKey(
        "clinics.Patient", on_delete=models.PROTECT, related_name="labs", db_index=False
    )
    order = models.ForeignKey(
        LabOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="results"
    )
    taken_on = models.DateField()
    b12_pg_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    b12_entered = models.CharField(max_length=30, blank=True)
    homocysteine_umol_l = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    haemoglobin_g_l = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    platelets_10e9_l = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    mma_umol_l = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    b12_status = models.CharField(max_length=12, choices=B12Status.choices, blank=True)
    homocysteine_status = models.CharField(
        max_length=12, choices=HomocysteineStatus.choices, blank=True
    )
    platelet_status = models.CharField(max_length=12, choices=PlateletStatus.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_on", "-id"]
        indexes = [models.Index(fields=["patient", "-taken_on"], name="labresult_patient_taken")]

    def __str__(self) -> str:
        return f"{self.patient} labs {self.taken_on}"

    @property
    def is_normal_check(self) -> bool:
        """Section 3: B12 above 350 pg/mL and homocysteine below 10 umol/L."""
        return (
            self.b12_status == self.B12Status.NORMAL
            and self.homocysteine_status == self.HomocysteineStatus.NORMAL
        )


class CalendarFeed(models.Model):
    """A private, revocable iCalendar address for one patient's doses and lab checks.

    The token is the only secret in the URL. Only its hash is stored, as for invitations: a
    copy of the database cannot be turned into working feed addresses, so the address is
    shown once, when it is made. Revoking it stops the feed at once, and a new one can be
    made. At most one live feed per patient.
    """

    patient = models.ForeignKey(
        "clinics.Patient", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_patient",
            )
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"{self.patient} calendar feed ({state})"

    @staticmethod
    def hash_of(token: str) -> str:
        """What is stored of a token (SHA-256, like an invitation's): a token of 32 random
        bytes needs no salt or slow hash to resist guessing."""
        return hashlib.sha256(token.encode()).hexdigest()

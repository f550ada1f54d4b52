from django.utils.translation import gettext_lazy as _

from clinics import page_cache
from flags.queue import open_flag_count

NAV_BY_ROLE = {
    "patient": [
        ("schedules:today", _("Today")),
        ("schedules:schedule", _("Schedule")),
        ("schedules:labs", _("Labs")),
        ("symptoms:report", _("Symptoms")),
        ("reminders:inbox", _("Inbox")),
        ("reminders:settings", _("Reminder settings")),
    ],
    "nurse": [
        ("clinics:dashboard", _("Patients")),
        ("flag_queue:list", _("Flags")),
        ("regimens:list", _("Regimens")),
    ],
    "clinic_admin": [
        ("clinics:settings", _("Clinic settings")),
        ("clinics:people", _("People")),
        ("regimens:list", _("Regimens")),
    ],
}


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = NAV_BY_ROLE.get(user.role, [])
    if user.is_nurse:
        # The open flags of the nurse's clinics, in the menu's words: one query, or none
        # while no patient of those clinics has changed (clinics/page_cache.py).
        count = page_cache.clinics_figure("open-flags", user, lambda: open_flag_count(user))
        label = _("Flags (%(count)s open)") % {"count": count} if count else _("Flags")
        items = [(name, label if name == "flag_queue:list" else text) for name, text in items]
    return {"nav_items": items}

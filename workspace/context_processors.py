"""The menu of every signed-in person, by role: `nav_items` for base.html.

One processor for both audiences, so the menu has one source: the patient's items name the
portal's URLs (names only, nothing imported), the nurse's and the clinic admin's the
workspace's. A nurse's *Flags* item counts the open flags of her clinics, kept like the
dashboard's table (`workspace.page_cache`).
"""

from django.utils.translation import gettext_lazy as _

from workspace import page_cache
from workspace.flag_queue import open_flag_count

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
        # while no patient of those clinics has changed (workspace/page_cache.py).
        count = page_cache.clinics_figure("open-flags", user, lambda: open_flag_count(user))
        label = _("Flags (%(count)s open)") % {"count": count} if count else _("Flags")
        items = [(name, label if name == "flag_queue:list" else text) for name, text in items]
    return {"nav_items": items}

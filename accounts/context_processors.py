from django.utils.translation import gettext_lazy as _

NAV_BY_ROLE = {
    "patient": [
        ("schedules:today", _("Today")),
        ("schedules:schedule", _("Schedule")),
        ("schedules:labs", _("Labs")),
        ("symptoms:report", _("Symptoms")),
        ("reminders:inbox", _("Inbox")),
        ("reminders:settings", _("Reminder settings")),
    ],
    "nurse": [("clinics:dashboard", _("Patients")), ("regimens:list", _("Regimens"))],
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
    return {"nav_items": NAV_BY_ROLE.get(user.role, [])}

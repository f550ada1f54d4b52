"""The patient's pages (`/me/...` and a few at the root): Today, logging a dose, the schedule,
labs, the calendar feed, symptoms, reminder settings and channels, the inbox, "my details",
and the service worker and web app manifest that make the app installable.

Its own app because the product has two audiences and this is one of them: the patient's
pages, forms, URLs and templates (`templates/portal/`) live here, on top of the domain apps
(schedules, flags, reminders, clinics, accounts), which they call and which never import
them. The workspace (nurses and clinic admins) is the other front end; neither imports the
other.
"""

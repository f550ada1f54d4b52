"""The workspace: every page of the nurses and clinic admins, under /clinic/.

The dashboard, a patient's record and visit report, the flag queue, the actions on a patient
(prescribe, record labs, end a phase, change an interval, pause, resume, stop, log a dose
given in clinic, mark a dose entered in error), the regimen list and editor, People and
clinic settings, the menu, and the cache that keeps the busiest of those pages.

Its own app because it is one of the product's two audiences (the other is the patient's
portal): it holds pages, forms, URLs, read models and templates and no rules of its own.
It imports the domain apps (audit, accounts, clinics, flags, schedules, reminders); none of
them imports it: a patient's data changing reaches its page cache as a signal
(`audit.signals.patient_data_changed`).
"""

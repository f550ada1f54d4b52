"""Reminders: every message the app sends a person, and the ways it reaches them.

A Reminder is one message on one channel, a row of the outbox (models.py) that a periodic
sweep claims and sends exactly once (services/outbox/). Planning writes the rows for the doses
and lab checks coming up (services/planning.py), and messages to nurses for flags
(services/staff.py); services/messages.py renders each from templates/reminders/messages/.
A person's channels are added, confirmed and removed by services/channels/ and
services/confirmation.py, and go out through the transports in channels/ (email, push, SMS,
the in-app inbox; outbound.py is the only way out for HTTP). Tasks are in tasks.py.

The top domain app: it imports the apps below it (audit, accounts, clinics, flags, schedules)
and none of them imports it.
"""

"""Flags: the nurse's work queue (missed doses, labs, symptoms, safety problems).

Its own app because many parts raise flags (the missed-dose sweep, lab results, symptom
reports, the reminder outbox) and one place must guarantee exactly one open flag per cause.
"""

"""The nurse's actions on a patient: one module per group of actions.

Every view is for nurses only (`nurse_page`), fetches what it acts on through
`common.patient_for`, `prescription_for` or `event_for`, which go through `clinics.viewing`
(another clinic's record: 404; every look-up audited as a view of the patient's data), calls
one service, and on success goes back to the patient's record with a message.
"""

"""The nurse's actions on a patient: one module per group of actions.

Every view is for nurses only (`nurse_page`), fetches what it acts on through
`clinics.selectors.patients_visible_to` (another clinic's record: 404), calls one service,
and on success goes back to the patient's record with a message.
"""

"""The workspace's pages, one module per page family; each view is named after its URL name.

A view fetches what it shows through `workspace.viewing` (another clinic's record: 404, every
look-up audited as a view of the patient's data), validates a form, calls one service, and
says what happened. The actions on a patient (`prescribe`, `labs`, `phases`, `status`,
`doses`) are for nurses only (`actions.nurses_only`) and go back to the patient's record with
a message; `actions` holds what they share.
"""

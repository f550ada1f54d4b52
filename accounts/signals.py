"""What the accounts app tells the apps above it, which it never imports.

`invitation_accepted` is sent by `invitation_accept` inside its transaction, once the
invitee's account exists and the invitation is marked used, with `invitation`, `user` and
`request` (None outside a web request). The clinics app receives it: it makes the new
account a patient or a member of the invitation's clinic and writes the audit row. A receiver
that raises undoes the whole acceptance, the account included.
"""

from django.dispatch import Signal

invitation_accepted = Signal()

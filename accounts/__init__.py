"""People and how they sign in: the user model, roles, two-factor authentication, sessions.

A boundary of its own because every other app depends on who is asking, never the reverse.
"""

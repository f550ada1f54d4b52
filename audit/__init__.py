"""The append-only audit log: who changed or viewed which patient's record, and when.

Its own app because every other app writes to it and nothing may edit or delete it.
"""

"""Clinics and their people: staff memberships and patients.

Separate from accounts because it holds the scope rules (section 5 of the clinical rules):
which patients a nurse may see, which clinic an admin manages.
"""

"""Clinic pages: the nurse's dashboard and patient record, the admin's clinic settings and
people. One module per page."""

"""Clinic pages: the nurse's dashboard and patient record, the admin's clinic settings, and the
patient's own details. One module per page."""

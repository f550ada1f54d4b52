"""Views: thin, one module per page group (staff regimens; the patient's pages)."""

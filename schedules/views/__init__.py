"""Views: thin, one module per page group of the patient's pages."""

"""The patient's own details page."""

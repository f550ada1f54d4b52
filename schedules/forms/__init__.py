"""Forms check shape only; the services decide what may be recorded."""

from schedules.forms.preview import PreviewForm

__all__ = ["PreviewForm"]

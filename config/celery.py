"""The Celery application. Settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """Database connections are kept across tasks as across requests: closed when older than
    CONN_MAX_AGE, broken or left mid-transaction, health-checked before reuse. (Celery's own
    Django fixup would close them after every task; CELERY_DB_REUSE_MAX keeps it from that.)"""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run inline by the caller, inside whatever transaction it holds
    from django.db import close_old_connections

    close_old_connections()

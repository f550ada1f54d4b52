from datetime import timedelta

from django.conf import settings

from config.celery import app


def test_beat_runs_in_utc_on_fixed_intervals_only():
    """No dose time is ever a crontab: every entry is a short fixed interval (STYLE.md)."""
    assert settings.CELERY_TIMEZONE == "UTC" and settings.CELERY_ENABLE_UTC
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert isinstance(entry["schedule"], timedelta), name
        assert entry["schedule"] <= timedelta(hours=6), name


def test_every_scheduled_task_exists_and_has_a_time_limit():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = app.tasks[entry["task"]]
        assert task.time_limit and task.soft_time_limit, name

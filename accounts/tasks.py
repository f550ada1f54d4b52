from celery import shared_task

from accounts import services


@shared_task(name="accounts.sessions_clear_expired", soft_time_limit=240, time_limit=300)
def sessions_clear_expired() -> int:
    return services.sessions_clear_expired()

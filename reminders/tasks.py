import socket

from celery import shared_task


@shared_task(name="reminders.ping", soft_time_limit=5, time_limit=10)
def ping() -> dict[str, str]:
    """Liveness probe answered by a worker: `manage.py worker_ping` sends it and waits."""
    return {"pong": "ok", "hostname": socket.gethostname()}

"""A task sent from Django runs in a real Celery worker process, on Redis and on the
filesystem broker that `make run` uses when no Redis is configured."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
WORKER_ARGS = ["--concurrency=1", "--pool=solo", "--without-mingle", "--without-gossip"]

pytestmark = pytest.mark.worker


def run_env(**overrides: str) -> dict[str, str]:
    return {**os.environ, **overrides}


@pytest.fixture
def start_worker():
    workers = []

    def start(env: dict[str, str]) -> subprocess.Popen:
        worker = subprocess.Popen(
            [CELERY, "-A", "config", "worker", *WORKER_ARGS, "--loglevel=WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def worker_ping(env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "worker_ping", "--timeout", str(timeout)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )


def test_a_task_runs_in_a_real_worker_on_redis(start_worker, redis_url):
    env = run_env(REDIS_URL=redis_url)
    start_worker(env)
    result = worker_ping(env)
    assert result.returncode == 0, result.stderr
    assert "answered" in result.stdout


def test_a_task_runs_in_a_real_worker_on_the_filesystem_broker(start_worker, tmp_path):
    env = run_env(REDIS_URL="", APP_VAR_DIR=str(tmp_path))
    start_worker(env)
    result = worker_ping(env)
    assert result.returncode == 0, result.stderr
    assert "answered" in result.stdout
    assert (tmp_path / "broker" / "queue").is_dir()


def test_worker_ping_says_in_one_line_when_no_worker_answers(tmp_path):
    result = worker_ping(run_env(REDIS_URL="", APP_VAR_DIR=str(tmp_path)), timeout=1)
    assert result.returncode != 0
    assert result.stderr.strip() == "CommandError: no Celery worker answered within 1 s"

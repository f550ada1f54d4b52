"""Real servers and processes for the reminder tests: an SMTP server's mailbox, a Redis of the
test's own, a push service on 127.0.0.1 and a browser's push subscription, Celery processes."""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from datetime import time as time_of_day
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.services import invitation_accept
from clinics.services import invitation_create
from reminders.models import Channel
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def channel_in_use(**fields) -> Channel:
    """A channel as reminders use it: on and confirmed. (A new email address or phone number
    waits for its code first: reminders/services/confirmation.py.)"""
    return Channel.objects.create(confirmed_at=timezone.now(), **fields)


def confirmed(channel: Channel) -> Channel:
    """The channel as it is once its owner typed the code back (setting up a test's world)."""
    Channel.objects.filter(pk=channel.pk).update(
        confirmed_at=timezone.now(), confirmation_code_hash="", confirmation_expires_at=None
    )
    channel.refresh_from_db()
    return channel


def invited_patient(clinic, *, email: str):
    """A patient who joined by following an invitation emailed to `email`, as every patient
    joins: their account's address counts as confirmed."""
    admin = factories.ClinicAdminFactory(clinics=[clinic])
    now = timezone.now()
    invitation_create(
        clinic=clinic,
        role=User.Role.PATIENT,
        email=email,
        name="Ivy Invited",
        created_by=admin,
        now=now,
        base_url="http://testserver",
        time_zone="Europe/London",
        dose_time=time_of_day(9, 0),
    )
    token = re.search(r"/accounts/invitation/([^/\s]+)/", mail.outbox[-1].body).group(1)
    user = invitation_accept(token=token, username="ivy", password="a-long-passphrase-1", now=now)
    return user.patient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """An SMTP server's mailbox: every message that arrived, by its Message-ID."""

    def __init__(self):
        self.message_ids: list[str] = []
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.message_ids.append(message["Message-ID"])
            self.messages.append(message)
        return "250 OK queued"

    def count(self) -> int:
        with self.lock:
            return len(self.message_ids)


class RedisServer:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def database_url() -> str:
    """The test database, as other processes (Celery workers) must be told to find it."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in its own group, so SIGKILL reaches a worker and its pool children."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class PushService:
    """A push service on 127.0.0.1 that records each request and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 201
        self.body = b""  # what it answers with, besides the status
        self.headers: dict[str, str] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                service.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                self.send_response(service.status)
                if service.status == 201:
                    self.send_header("Location", f"http://127.0.0.1/m/{len(service.requests)}")
                for name, value in service.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(service.body)))
                self.end_headers()
                self.wfile.write(service.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Subscriber:
    """What a browser keeps for one subscription: an EC P-256 key pair and an auth secret."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.keys = {"p256dh": b64url(public), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> dict:
        clear = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(clear)

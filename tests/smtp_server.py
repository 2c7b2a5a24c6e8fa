"""A local SMTP server for tests (aiosmtpd): records every message it accepts; can refuse addresses for good
(550) or for now (451), like a real mail server, or drop the connection before or after taking a message."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
import time
from collections import Counter
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.realtime.servers import free_port

# aiosmtpd logs every SMTP command at INFO from its own thread, after pytest may have closed the stream it wrote to.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.server.lock:
            self.server.attempts[address.lower()] += 1
        if address.lower() in self.server.refuse:
            return "550 5.1.1 No such user here"
        if self.server.drop_at_rcpt.get(address.lower(), 0) > 0:  # gone before the message: it was not taken
            self.server.drop_at_rcpt[address.lower()] -= 1
            server.transport.close()
            return "421 4.4.2 Connection dropped"  # never reaches the client: the connection is closed
        if self.server.busy.get(address.lower(), 0) > 0:
            self.server.busy[address.lower()] -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            for rcpt in envelope.rcpt_tos:
                self.server.received.append((rcpt.lower(), message))
        if any(rcpt.lower() in self.server.drop_after_data for rcpt in envelope.rcpt_tos):
            server.transport.close()  # taken, and the connection lost before the answer: the client cannot know
        return "250 Message accepted for delivery"


class SmtpServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[str, EmailMessage]] = []
        self.refuse: set[str] = set()  # addresses refused for good
        self.busy: dict[str, int] = {}  # address → how many more times to answer "try later"
        self.attempts: Counter = Counter()  # address → RCPT commands seen
        self.drop_at_rcpt: dict[str, int] = {}  # address → how many more times to drop the connection at RCPT
        self.drop_after_data: set[str] = set()  # addresses whose message is taken, then the connection dropped
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.received if rcpt == address.lower()]

    def counts(self) -> Counter:
        with self.lock:
            return Counter(rcpt for rcpt, _ in self.received)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} emails arrived, waited for {count}")
            time.sleep(0.02)

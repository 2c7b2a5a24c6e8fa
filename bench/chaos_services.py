"""What bench/chaos.py breaks: a PostgreSQL cluster and a Redis of its own (never the shared ones on 5432 and
6379, which other work uses), and the processes of Procfile.scaled started one by one, so that one of them can be
killed and started again without the others (honcho stops every process when one ends)."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "var" / "chaos"


def _pg_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return str(versions[-1] / name) if versions else name


class OwnPostgres:
    """A throwaway cluster (initdb into a temporary directory, trust on loopback, no fsync) on its own port. As
    root the server runs as the postgres user, as PostgreSQL requires."""

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="goatedvips-chaos-pg-"))
        self.data, self.log = self.dir / "data", LOGS / "postgres.log"
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        command = ["su", "postgres", "-c", shlex.join(argv)] if self.as_postgres else list(argv)
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def init(self) -> None:
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            LOGS.mkdir(parents=True, exist_ok=True)
            self.log.touch()
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=200")  # fmt: skip
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                  "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """redis-server on its own port, nothing saved to disk."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / "redis.log", "a") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        for _ in range(100):
            done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
            if done.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server on {self.port} did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"


class Topology:
    """The processes of Procfile.scaled (the bot left out), each in a process group of its own, with the web
    ports and the balancer's upstreams moved to ports of this suite's own."""

    def __init__(self, env: dict, web_ports: dict[str, int]):
        self.env, self.web_ports = env, web_ports
        self.commands: dict[str, str] = {}
        self.processes: dict[str, subprocess.Popen] = {}
        for line in (ROOT / "Procfile.scaled").read_text().splitlines():
            name, _, command = line.partition(":")
            if line.startswith("#") or not command or name == "bot":
                continue
            command = command.strip()
            if name in web_ports:
                command = re.sub(r"--port \d+", f"--port {web_ports[name]}", command)
            if name == "balancer":
                command += "".join(f" --upstream 127.0.0.1:{port}" for port in web_ports.values())
            if name == "beat":
                command = command.replace("var/celerybeat-schedule", str(LOGS / "beat-schedule"))
            self.commands[name] = command
        if set(web_ports) - set(self.commands) or "balancer" not in self.commands:
            raise SystemExit("Procfile.scaled has changed: bench/chaos_services.py expects web1, web2, balancer")

    def start(self, name: str, command: str | None = None) -> None:
        command = command or self.commands[name]
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / f"{name}.log", "a") as log:
            log.write(f"\n--- {time.strftime('%H:%M:%S')} start: {command}\n")
            log.flush()
            self.processes[name] = subprocess.Popen(
                ["bash", "-c", f"exec {command}"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal the process and everything it started (a Celery worker's pool, nginx's workers)."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        return process.pid

    def pids(self) -> dict[str, int | None]:
        """Each process's pid while it runs (None once it has ended)."""
        return {name: (p.pid if p.poll() is None else None) for name, p in self.processes.items()}

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)

"""A local Redis Sentinel set: a primary, a replica and three sentinels (Debian's redis-server / redis-sentinel),
each a process of its own with its config, log and pid file in one directory.

    python scripts/redis_sentinel.py start [--dir var/redis-sentinel]   # idempotent: a running set is kept
    python scripts/redis_sentinel.py stop  [--dir var/redis-sentinel]
    python scripts/redis_sentinel.py env   [--dir var/redis-sentinel]   # REDIS_SENTINELS=... REDIS_SENTINEL_MASTER=...

`make run-scaled SENTINEL=1` uses it; tests/deploy/test_sentinel.py and bench/failover.py start sets of their own
on free ports (`SentinelSet.start` in a temporary directory) and kill the primary. No persistence (a local
topology), and short detection times so a failover takes seconds: production values are in docs/operations.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MASTER_NAME = "goatedvips"
DEFAULT_PORTS = {"primary": 6385, "replica": 6386, "sentinels": (26385, 26386, 26387)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def command(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """One RESP command and its raw answer (enough for INFO and SENTINEL queries, no client library needed)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(payload)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            data += chunk
            if not chunk or len(chunk) < 65536:
                break
        return data


def master_port(sentinel_port: int) -> int | None:
    """The primary's port as this sentinel names it now (None when it cannot say)."""
    try:
        answer = command(sentinel_port, "SENTINEL", "get-master-addr-by-name", MASTER_NAME)
    except OSError:
        return None
    lines = answer.split(b"\r\n")
    return int(lines[4]) if answer.startswith(b"*2") and len(lines) > 4 else None


@dataclass
class SentinelSet:
    directory: Path
    primary: int
    replica: int
    sentinels: tuple[int, ...]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
        }

    @classmethod
    def start(
        cls,
        directory: Path,
        *,
        primary: int | None = None,
        replica: int | None = None,
        sentinels: tuple[int, ...] | None = None,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 5000,
        daemon: bool = False,
        timeout: float = 15,
    ) -> SentinelSet:
        directory.mkdir(parents=True, exist_ok=True)
        primary = primary or free_port()
        replica = replica or free_port()
        sentinels = sentinels or tuple(free_port() for _ in range(3))
        self = cls(directory, primary, replica, tuple(sentinels))
        common = ["bind 127.0.0.1", 'save ""', "appendonly no", f"dir {directory}"]
        configs = {
            "primary": [f"port {primary}", *common],
            "replica": [f"port {replica}", *common, f"replicaof 127.0.0.1 {primary}"],
        }
        for port in sentinels:
            configs[f"sentinel-{port}"] = [
                f"port {port}",
                "bind 127.0.0.1",
                f"dir {directory}",
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2",
                f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}",
                f"sentinel failover-timeout {MASTER_NAME} {failover_timeout_ms}",
                f"sentinel parallel-syncs {MASTER_NAME} 1",
                # Known from the start, not from the primary's INFO (every 10 s): ready sooner.
                f"sentinel known-replica {MASTER_NAME} 127.0.0.1 {replica}",
            ]
        try:
            for name, lines in configs.items():
                conf = directory / f"{name}.conf"
                if daemon:
                    lines = [*lines, "daemonize yes", f"pidfile {directory / name}.pid"]
                lines = [*lines, f"logfile {directory / name}.log"]
                conf.write_text("\n".join(lines) + "\n")
                args = [REDIS_SERVER, str(conf)] + (["--sentinel"] if name.startswith("sentinel") else [])
                if daemon:
                    subprocess.run(args, check=True, timeout=timeout)  # noqa: S603 (our redis-server, our config)
                else:
                    self.processes[name] = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: S603
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        """Every process answers, the replica is in sync and every sentinel knows the others and the replica."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(ping(port) for port in (self.primary, self.replica, *self.sentinels)):
                try:
                    synced = b"master_link_status:up" in command(self.replica, "INFO", "replication")
                    known = all(
                        b"num-other-sentinels\r\n$1\r\n2" in command(port, "SENTINEL", "master", MASTER_NAME)
                        and b"num-slaves\r\n$1\r\n1" in command(port, "SENTINEL", "master", MASTER_NAME)
                        for port in self.sentinels
                    )
                except OSError:
                    synced = known = False
                if synced and known:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"the Sentinel set in {self.directory} was not ready within {timeout} s")

    def kill(self, name: str) -> None:
        """SIGKILL one process of the set (no shutdown, no goodbye to the sentinels)."""
        process = self.processes.get(name)
        if process is not None:
            process.kill()
            process.wait(timeout=5)
            return
        pid = _redis_pid(self.directory / f"{name}.pid")
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    def wait_promoted(self, old_primary: int, timeout: float) -> int:
        """The port every live sentinel names as the primary once it is no longer `old_primary`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            named = {master_port(port) for port in self.sentinels}
            if len(named) == 1 and None not in named and old_primary not in named:
                return named.pop()
            time.sleep(0.05)
        raise TimeoutError(f"no sentinel promoted a replica within {timeout} s")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for pidfile in self.directory.glob("*.pid"):
            pid = _redis_pid(pidfile)
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
            pidfile.unlink(missing_ok=True)


def _redis_pid(pidfile: Path) -> int | None:
    """The pid in a pid file if that process is still a redis-server (a killed one leaves its file behind, and the
    number may belong to another process by now)."""
    try:
        pid = int(pidfile.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in command else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop", "env"))
    parser.add_argument("--dir", type=Path, default=Path("var/redis-sentinel"))
    args = parser.parse_args()
    directory = args.dir.resolve()
    ports = DEFAULT_PORTS
    known = SentinelSet(directory, ports["primary"], ports["replica"], ports["sentinels"])
    if args.action == "env":
        print(" ".join(f"{key}={value}" for key, value in known.env.items()))
    elif args.action == "stop":
        known.stop()
    elif any(master_port(port) for port in ports["sentinels"]):
        print(f"Redis Sentinel set already running (sentinels {ports['sentinels']})", file=sys.stderr)
    else:
        # The sentinels rewrite their config files (known replicas, epochs): start from fresh ones every time.
        shutil.rmtree(directory, ignore_errors=True)
        SentinelSet.start(directory, daemon=True, down_after_ms=5000, failover_timeout_ms=15000, **_ports(ports))
        print(f"Redis Sentinel set up: primary {ports['primary']}, replica {ports['replica']}, "
              f"sentinels {ports['sentinels']} ({directory})", file=sys.stderr)  # fmt: skip


def _ports(ports: dict) -> dict:
    return {"primary": ports["primary"], "replica": ports["replica"], "sentinels": ports["sentinels"]}


if __name__ == "__main__":
    main()

"""Machines of their own for test processes, as docker-compose gives each service a
container: every `Host` is a Linux network namespace with its own hostname, attached by
a veth pair to one bridge, the compose network. The test process (the host itself) holds
the bridge's address, the gateway: the services it offers the hosts (PostgreSQL and Redis
through tests/support/tcp_forwarder.py, an HTTP server) listen there.

`Host.cut()` takes its bridge port down: a network partition, silent (packets are
dropped, connections hang) rather than refused, until `Host.restore()`.

Needs root and iproute2. Every name carries a token of its own, so runs side by side
never meet; `private_network()` removes everything it made, whatever happens."""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# The /24s hosts are given addresses in: 10.251.<n>.0/24, one free <n> per network.
NETWORK_PREFIX = "10.251"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def unavailable_reason() -> str | None:
    """Why this machine cannot make namespaces (not root, no iproute2, no unshare), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for program, package in (("ip", "iproute2"), ("unshare", "util-linux")):
        if shutil.which(program) is None:
            return f"`{program}` is not installed (Debian package {package})"
    probe = f"sbprobe{secrets.token_hex(3)}"
    try:
        ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"`ip netns add` failed: {exc.stderr.strip()}"
    ip("netns", "delete", probe)
    return None


@dataclass(frozen=True)
class Host:
    """One machine on the network: its namespace, hostname, address, and the bridge port
    (the host-side end of its veth pair) that joins it to the network."""

    name: str
    namespace: str
    address: str
    port: str

    def command_prefix(self) -> list[str]:
        """Runs a command in this host's namespace, under this host's name (a UTS
        namespace of its own: worker node names and lease holders show which host)."""
        in_namespace = ["ip", "netns", "exec", self.namespace, "unshare", "--uts"]
        return [*in_namespace, "sh", "-c", 'hostname "$0" && exec "$@"', self.name]

    def cut(self) -> None:
        ip("link", "set", self.port, "down")

    def restore(self) -> None:
        ip("link", "set", self.port, "up")


@dataclass(frozen=True)
class Network:
    gateway: str  # the test machine's address on the bridge
    hosts: dict[str, Host]


@contextmanager
def subnet_lock() -> Iterator[None]:
    """Held from choosing a subnet until the bridge has it, so that two runs starting at
    once never choose the same one."""
    with open(Path(tempfile.gettempdir()) / "switchboard-test-networks.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def free_subnet() -> str:
    """A 10.251.<n> that no route of this machine uses (another run's network, say)."""
    routes = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=True).stdout
    used = {int(n) for n in re.findall(rf"{re.escape(NETWORK_PREFIX)}\.(\d+)\.", routes)}
    free = [n for n in range(256) if n not in used]
    if not free:
        raise RuntimeError(f"no free /24 left in {NETWORK_PREFIX}.0.0/16")
    return f"{NETWORK_PREFIX}.{secrets.choice(free)}"


@contextmanager
def private_network(*names: str) -> Iterator[Network]:
    """A bridge with one host per name (the hostname is `<name>-<token>`)."""
    token = secrets.token_hex(3)
    bridge = f"sbbr{token}"
    with ExitStack() as cleanup:
        with subnet_lock():
            subnet = free_subnet()
            ip("link", "add", bridge, "type", "bridge")
            cleanup.callback(ip, "link", "delete", bridge)
            ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
            ip("link", "set", bridge, "up")
        hosts = {}
        for number, name in enumerate(names, start=2):
            namespace, port = f"sb-{token}-{name}", f"sb{token}h{number}"
            ip("netns", "add", namespace)
            # Deleting the namespace deletes the veth pair with it.
            cleanup.callback(ip, "netns", "delete", namespace)
            ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            ip("link", "set", port, "master", bridge, "up")
            ip("-n", namespace, "addr", "add", f"{subnet}.{number}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "link", "set", "lo", "up")
            hosts[name] = Host(f"{name}-{token}", namespace, f"{subnet}.{number}", port)
        yield Network(f"{subnet}.1", hosts)


def url_via(url: str, host: str, port: int) -> str:
    """`url` with its server's address replaced (credentials, path and query kept)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))

"""A real Redis Cluster for the tests: 3 masters and 3 replicas from the installed binaries.

Started like the single server (tests/support/services.py): ``redis-server --cluster-enabled yes``
on free loopback ports, joined with ``redis-cli --cluster create ... --cluster-replicas 1``.
A short ``cluster-node-timeout`` makes a killed master's replica take over within seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.services import free_port, missing, wait_port

NODE_TIMEOUT_MS = 1000


def _cluster_port() -> int:
    """A free port Redis accepts for a cluster node (it refuses ports above 55535)."""
    while True:
        port = free_port()
        if port <= 55535:
            return port


class RedisClusterServer:
    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        self.masters = masters
        self.replicas = replicas
        self.ports = [_cluster_port() for _ in range(masters * (1 + replicas))]
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-redis-cluster-"))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.bus_ports: dict[int, int] = {}  # the cluster bus, kept across restarts

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if not shutil.which("redis-server") or not shutil.which("redis-cli"):
            missing("redis-server and redis-cli")
        for port in self.ports:
            self.start_node(port)
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_ok()
        self.wait_replicas_synced()

    def start_node(self, port: int) -> None:
        """(Re)start the node of ``port``; its nodes.conf brings it back into the cluster."""
        binary = shutil.which("redis-server")
        assert binary
        self.procs[port] = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--cluster-port",
                str(self.bus_ports.setdefault(port, free_port())),
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.dir / f"redis-{port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(port)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self, port: int) -> None:
        """SIGKILL the node: no goodbye to its clients or to the cluster."""
        proc = self.procs[port]
        proc.kill()
        proc.wait(10)

    # ---- looking at it --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The setting's form: ``redis+cluster://`` and the seed nodes, comma-separated."""
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.ports[: self.masters])
        return f"redis+cluster://{seeds}"

    def cli(self, port: int, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def roles(self) -> dict[int, str]:
        """``port -> "master" | "slave"`` as the live nodes see themselves."""
        out: dict[int, str] = {}
        for port, proc in self.procs.items():
            if proc.poll() is None:
                out[port] = self.cli(port, "role").split("\n", 1)[0].strip()
        return out

    def replica_of(self, master_port: int) -> int:
        """A live replica's port of the master on ``master_port`` (as the master sees its
        connected replicas)."""
        for line in self.cli(master_port, "info", "replication").splitlines():
            if line.startswith("slave") and "state=online" in line:
                fields = dict(f.split("=", 1) for f in line.split(":", 1)[1].split(","))
                port = int(fields["port"])
                if port in self.procs and self.procs[port].poll() is None:
                    return port
        raise LookupError(f"no live replica of {master_port}")

    def master_of_slot(self, slot: int) -> int:
        """The port of the master serving ``slot``, as a live node tells it."""
        port = next(p for p, proc in self.procs.items() if proc.poll() is None)
        for line in self.cli(port, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for part in fields[8:]:
                lo, _, hi = part.partition("-")
                if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise LookupError(f"slot {slot} is not served")

    def wait_ok(self, timeout: float = 30) -> None:
        """Until every live node says ``cluster_state:ok`` and counts all slots assigned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = [p for p, proc in self.procs.items() if proc.poll() is None]
            infos = [self.cli(p, "cluster", "info") for p in live]
            if all("cluster_state:ok" in i and "cluster_slots_ok:16384" in i for i in infos):
                return
            time.sleep(0.1)
        raise TimeoutError("the redis cluster did not become ok")

    def wait_master(self, port: int, timeout: float = 30) -> None:
        """Until ``port`` is a master and every live node sees all slots served again."""
        deadline = time.monotonic() + timeout
        while self.roles().get(port) != "master":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{port} did not become a master")
            time.sleep(0.05)
        self.wait_ok(max(1.0, deadline - time.monotonic()))
        self.wait_replicas_synced(max(1.0, deadline - time.monotonic()))

    def wait_replicas_synced(self, timeout: float = 30) -> None:
        """Until every live node that is no master replicates from a master, link up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            roles = self.roles()  # the live nodes: every one beyond the masters is a replica
            replicas = [p for p, r in roles.items() if r == "slave"]
            linked = all(
                "master_link_status:up" in self.cli(p, "info", "replication") for p in replicas
            )
            if len(replicas) == len(roles) - self.masters and linked:
                return
            time.sleep(0.1)
        raise TimeoutError("the replicas did not sync")

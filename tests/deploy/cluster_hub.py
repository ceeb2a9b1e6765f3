"""The hub in cluster mode on loopback, as the deployments run it, made of real processes:

- three nats-servers from the wheel, clustered, each from `simpul nats-config --passwords env`;
- the three streams and the files' buckets at R3, made by the streams job
  (`python -m services.streams_cli --replicas 3`) as `ops`;
- every service's migrations (`simpul migrate`), then two processes of every service (`python -m <service>`), both
  on that service's database (one SQLite file, or one PostgreSQL schema) and each given all three NATS URLs;
- in front of each service's replicas, a round-robin TCP balancer (as a Kubernetes Service or an nginx upstream:
  each connection to the next replica that accepts it), and the gateway (`python -m services.gateway_serve`) in
  front of those, as the one base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from nats.aio.client import Client as NATS
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.nats_config_cli import ROUTE_PASSWORD_ENV, password_env, render
from services.nats_users import OPS, USERS
from services.ports import free_port
from services.registry import SERVICES, ServiceSpec
from services.secrets_store import HubSecrets, load_or_create
from services.service_dbs import ServiceDatabase, service_databases
from services.up import HubSetup, migrate_all, service_env
from shared.bus.nats_bus import inbox_prefix
from shared.events.topology import BUCKETS
from tests.deploy.nats_conf import ClusterNode, conf_args, loopback_nodes, routed_to, running, wait_healthy
from tests.e2e.hub import drop_schemas
from tests.support.apps import ADMIN_KEY
from tests.support.databases import postgres_env_url

REPLICAS = 2
STREAM_REPLICAS = 3
READY_TIMEOUT_S = 120.0
"""Eight services start at once on a small machine, each importing its whole stack: generous."""
NATS_CONNECT_TIMEOUT_S = 10
SETTINGS = {
    # A notification a killed notify replica had claimed waits out this lease before the other sends it (300 s).
    "SIMPUL_NOTIFY_SEND_LEASE_SECONDS": "10",
}


@dataclass
class Process:
    """One process this module started: a service replica or the gateway. Stopped and killed by its own PID only."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own modules
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """kill -9, by its PID."""
        assert self.process is not None and self.process.poll() is None, f"{self.name} is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_ready(processes: list[Process], timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting:
        waiting = [p for p in waiting if not p.ready()]
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout}s: {[(p.name, str(p.log)) for p in waiting]}")
        if waiting:
            time.sleep(0.2)


class RoundRobin:
    """One loopback port in front of a service's replicas: each connection goes to the next replica in turn, or, if
    that one refuses it, to the one after. The bytes are passed through as they are."""

    def __init__(self, name: str, ports: list[int]):
        self.name = name
        self.ports = ports
        self.port = 0
        self.connections: Counter[int] = Counter()
        """Connections handed to each replica (by its port)."""
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = next(self._turn)
        for i in range(len(self.ports)):
            port = self.ports[(first + i) % len(self.ports)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            self.connections[port] += 1
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until either side ends, then close the sink (which ends the opposite pipe too)."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


class Balancers:
    """The round-robins, served by an event loop of their own in a thread, so that the test may block."""

    def __init__(self, groups: dict[str, list[int]]):
        self.by_service = {name: RoundRobin(name, ports) for name, ports in groups.items()}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="balancers", daemon=True)

    def __enter__(self) -> Balancers:
        self._thread.start()
        for balancer in self.by_service.values():
            asyncio.run_coroutine_threadsafe(balancer.open(), self._loop).result(10)
        return self

    def __exit__(self, *_: object) -> None:
        for balancer in self.by_service.values():
            asyncio.run_coroutine_threadsafe(balancer.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.by_service[service].port}"


@dataclass
class ClusterHub:
    data_dir: Path
    backend: str
    nodes: list[ClusterNode]
    replicas: dict[str, list[Process]]
    gateway: Process
    balancers: Balancers
    secrets: HubSecrets
    databases: dict[str, ServiceDatabase]

    @property
    def base_url(self) -> str:
        return self.gateway.url

    @property
    def nats_urls(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> ClusterNode:
        return next(n for n in self.nodes if n.name == name)

    def kill_node(self, node: ClusterNode) -> None:
        """kill -9 a nats-server, by its PID."""
        assert node.process is not None and node.process.poll() is None, f"{node.name} is not running"
        node.process.send_signal(signal.SIGKILL)
        node.process.wait()

    def restart_node(self, node: ClusterNode) -> None:
        """The node again, from its config and its store, on its ports."""
        node.start(node.directory / "nats.conf", {})
        wait_healthy([node], timeout=60)

    async def ops(self) -> NATS:
        """A connection as `ops` that knows every node and follows the cluster as nodes come and go."""
        return await nats.connect(
            servers=[node.url for node in self.nodes],
            name="cluster-test",
            user=OPS,
            password=self.secrets.nats_passwords[OPS],
            inbox_prefix=inbox_prefix(OPS),
            connect_timeout=NATS_CONNECT_TIMEOUT_S,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
        )

    def engine(self, service: str) -> AsyncEngine:
        target = self.databases[service]
        args = {"server_settings": {"search_path": target.schema}} if target.schema else {}
        return create_async_engine(target.url, connect_args=args, pool_size=1, max_overflow=0)


def metric(url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples (those with these labels) in a process's /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@contextlib.contextmanager
def cluster_hub(tmp: Path, backend: str) -> Iterator[ClusterHub]:
    data_dir = tmp / "hub"
    data_dir.mkdir(parents=True)
    hub_secrets = load_or_create(data_dir, [s.name for s in SERVICES], ADMIN_KEY)
    with contextlib.ExitStack() as stack:
        nodes = loopback_nodes(tmp / "nats")
        stack.enter_context(running(nodes, _nats_configs(nodes, hub_secrets), [{} for _ in nodes]))
        for node in nodes:
            others = {n.name for n in nodes} - {node.name}
            assert routed_to(node, others, timeout=30) == others, f"{node.name} did not join the cluster"
        urls = ",".join(node.url for node in nodes)
        _create_streams(urls, hub_secrets.nats_passwords[OPS], data_dir / "streams.log")

        postgres = postgres_env_url() if backend == "postgres" else None
        prefix = f"cluster_{uuid.uuid4().hex[:8]}_" if postgres else "simpul_"
        if postgres:
            stack.callback(drop_schemas, prefix)
        where = argparse.Namespace(data_dir=str(data_dir), service=None, postgres=postgres, schema_prefix=prefix)
        assert asyncio.run(migrate_all(where)) == 0, f"migrations failed; see {data_dir / 'logs'}"

        gateway_port = free_port()
        replicas = {
            spec.name: [
                _replica(spec, i, data_dir, urls, hub_secrets, f"http://127.0.0.1:{gateway_port}", postgres, prefix)
                for i in range(1, REPLICAS + 1)
            ]
            for spec in SERVICES
        }
        every = [p for group in replicas.values() for p in group]
        for p in every:
            stack.callback(p.stop)
        for p in every:
            p.start()
        wait_ready(every)

        balancers = stack.enter_context(Balancers({name: [p.port for p in ps] for name, ps in replicas.items()}))
        gateway_env = {f"SIMPUL_GATEWAY_{s.name.upper()}_URL": balancers.url(s.name) for s in SERVICES}
        gateway = Process(
            "gateway",
            [sys.executable, "-m", "services.gateway_serve"],
            _clean_env() | gateway_env | {"SIMPUL_GATEWAY_PORT": str(gateway_port)},
            gateway_port,
            data_dir / "logs" / "gateway.log",
        )
        stack.callback(gateway.stop)
        gateway.start()
        wait_ready([gateway])
        yield ClusterHub(
            data_dir=data_dir,
            backend=backend,
            nodes=nodes,
            replicas=replicas,
            gateway=gateway,
            balancers=balancers,
            secrets=hub_secrets,
            databases={d.service: d for d in service_databases(where)},
        )


def _nats_configs(nodes: list[ClusterNode], hub_secrets: HubSecrets) -> list[str]:
    """Each node's config from `simpul nats-config --passwords env`: the users' bcrypt hashes, the routes."""
    environ = {password_env(user): hub_secrets.nats_passwords[user] for user in USERS}
    environ[ROUTE_PASSWORD_ENV] = secrets.token_hex(32)
    routes = ",".join(f"127.0.0.1:{n.cluster_port}" for n in nodes)
    return [
        render(conf_args("--passwords", "env", "--routes", routes, "--server-name", n.name, *n.listen_args()), environ)
        for n in nodes
    ]


def _create_streams(urls: str, ops_password: str, log_path: Path) -> None:
    """The deployments' streams job: the three streams and the buckets at R3, as `ops`."""
    argv = [sys.executable, "-m", "services.streams_cli", "--nats-url", urls, "--replicas", str(STREAM_REPLICAS)]
    env = _clean_env() | {"SIMPUL_NATS_USER": OPS, "SIMPUL_NATS_PASSWORD": ops_password}
    done = subprocess.run([*argv, "--wait", "60"], env=env, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603
    log_path.write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"the streams job failed:\n{done.stdout}{done.stderr}"
    assert done.stdout.count(f" R{STREAM_REPLICAS} ") == 3 + len(BUCKETS), done.stdout


def _replica(
    spec: ServiceSpec,
    index: int,
    data_dir: Path,
    nats_urls: str,
    hub_secrets: HubSecrets,
    gateway_url: str,
    postgres: str | None,
    prefix: str,
) -> Process:
    """One process of a service, configured as `simpul up` configures it, but on every node of the cluster."""
    port = free_port()
    hub = HubSetup(
        data_dir=data_dir,
        nats_url=nats_urls,
        secrets=hub_secrets,
        gateway_url=gateway_url,
        postgres=postgres,
        schema_prefix=prefix,
    )
    env = service_env(spec, hub, port)
    env[f"{spec.env_prefix}STREAM_REPLICAS"] = str(STREAM_REPLICAS)
    argv = [sys.executable, "-m", spec.package]
    log = data_dir / "logs" / f"{spec.name}-{index}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return Process(f"{spec.name}-{index}", argv, _clean_env() | SETTINGS | env, port, log)


def _clean_env() -> dict[str, str]:
    """This environment without any SIMPUL_ setting, so that each process has only what it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env

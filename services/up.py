"""`simpul up`: nats-server from the wheel, migrations, four service processes, the pages (services/web), and the
gateway on one port.

The broker admits only its users: each service connects as its own, within its own subjects, and `ops` (this
process, and the command line) creates the streams and the files' buckets before any service starts (see
services.nats_users).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nats
import uvicorn
import uvloop

from services.data_dir import prepare_data_dir
from services.doors.email.in_hub import plan_email_door, start_email_door
from services.gateway import Upstream, create_gateway, service_body_limit, service_upload_limit
from services.gateway_http import GatewayHttpProtocol
from services.nats_users import OPS, hub_users
from services.natsd import NatsServer
from services.ports import reserve_port
from services.registry import SERVICES, ServiceSpec
from services.secrets_store import HubSecrets, key_env, load_or_create
from services.state import clear_state, read_state, write_state
from services.supervisor import ManagedProcess, Supervisor, child_env, python_module_argv
from shared.auth.keys import check_bootstrap_key
from shared.bus.nats_bus import ensure_buckets, ensure_streams, inbox_prefix
from shared.processes import pid_alive

WEB = "web"
"""The pages' process: a client of the public API, behind the gateway like the services."""
EMAIL_DOOR = "email-door"


def say(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class HubSetup:
    """What every service of one hub is told: data folder, broker, secrets, gateway URL, PostgreSQL (None: SQLite)."""

    data_dir: Path
    nats_url: str
    secrets: HubSecrets
    gateway_url: str
    postgres: str | None
    schema_prefix: str


def service_env(spec: ServiceSpec, hub: HubSetup, port: int) -> dict[str, str]:
    """The environment of `spec`'s process in `hub`, listening on `port`."""
    p = spec.env_prefix
    secrets = hub.secrets
    env = {
        f"{p}HOST": "127.0.0.1",
        f"{p}PORT": str(port),
        f"{p}DATA_DIR": str(hub.data_dir),
        f"{p}NATS_URL": hub.nats_url,
        f"{p}NATS_USER": spec.name,
        f"{p}NATS_PASSWORD": secrets.nats_passwords[spec.name],
        "SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH": secrets.admin_key_hash,
    }
    env |= key_env(spec, secrets)
    if spec.name == "notify":
        env[f"{p}PUBLIC_BASE_URL"] = hub.gateway_url
        env[f"{p}REPLY_SECRET"] = secrets.reply_secret
    if hub.postgres:
        env[f"{p}DATABASE_URL"] = hub.postgres
        env[f"{p}DATABASE_SCHEMA"] = f"{hub.schema_prefix}{spec.name}"
    return env


def web_env(hub: HubSetup, port: int) -> dict[str, str]:
    """The environment of the pages' process: it asks the API at the gateway, as any client does."""
    return {
        "SIMPUL_WEB_HOST": "127.0.0.1",
        "SIMPUL_WEB_PORT": str(port),
        "SIMPUL_WEB_API_BASE_URL": hub.gateway_url,
        "SIMPUL_WEB_PUBLIC_BASE_URL": hub.gateway_url,
        "SIMPUL_WEB_SECRET": hub.secrets.web_secret,
    }


async def _migrate(specs: list[ServiceSpec], envs: dict[str, dict[str, str]], logs: Path) -> None:
    async def one(spec: ServiceSpec) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{spec.name}.migrate.log").open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                *python_module_argv(spec.package), "migrate", env=child_env(envs[spec.name]), stdout=log, stderr=log
            )
            code = await proc.wait()
        if code != 0:
            raise RuntimeError(f"migrations for {spec.name} failed; see {logs / (spec.name + '.migrate.log')}")
        say(f"  {spec.name:<8} migrated")

    await asyncio.gather(*(one(s) for s in specs))


async def migrate_all(args: argparse.Namespace) -> int:
    data_dir = _private_data_dir(args)
    secrets = load_or_create(data_dir, [s.name for s in SERVICES], None)
    specs = [s for s in SERVICES if not args.service or s.name in args.service]
    hub = HubSetup(
        data_dir=data_dir,
        nats_url="nats://127.0.0.1:4222",
        secrets=secrets,
        gateway_url="",
        postgres=args.postgres,
        schema_prefix=args.schema_prefix,
    )
    envs = {s.name: service_env(s, hub, port=0) for s in specs}
    try:
        await _migrate(specs, envs, data_dir / "logs")
    except RuntimeError as exc:
        say(str(exc))
        return 1
    return 0


def _private_data_dir(args: argparse.Namespace) -> Path:
    data_dir = Path(args.data_dir).resolve()
    tightened = prepare_data_dir(data_dir)
    if tightened:
        say(f"Made {len(tightened)} path(s) in {data_dir} readable by their owner only (were open to others).")
    return data_dir


def run_up(args: argparse.Namespace) -> int:
    try:
        # uvloop, as the services run: this loop serves the one base URL.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(_up(args))
    except KeyboardInterrupt:
        return 130


async def _up(args: argparse.Namespace) -> int:
    given = os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY") or None
    if given is not None:
        try:
            check_bootstrap_key(given)
        except ValueError as exc:
            say(f"SIMPUL_BOOTSTRAP_ADMIN_KEY: {exc}")
            return 1
    data_dir = _private_data_dir(args)
    previous = read_state(data_dir)
    if previous and pid_alive(int(previous.get("supervisor_pid", 0))):
        say(f"Simpul is already running from {data_dir} (pid {previous['supervisor_pid']}); see `simpul status`.")
        return 1
    try:
        front = _front_door(args.port)
    except OSError:
        say(f"Port {args.port} is taken; choose another with --port.")
        return 1
    with contextlib.ExitStack() as held:
        held.enter_context(front)
        # Each service's port stays held for as long as the hub runs, so a service that restarts finds it free.
        reserved = {name: held.enter_context(reserve_port()) for name in [*(s.name for s in SERVICES), WEB]}
        reserved[EMAIL_DOOR] = held.enter_context(reserve_port())
        return await _run(args, data_dir, front, {name: int(r.getsockname()[1]) for name, r in reserved.items()})


async def _run(args: argparse.Namespace, data_dir: Path, front: socket.socket, ports: dict[str, int]) -> int:
    secrets = load_or_create(
        data_dir,
        [s.name for s in SERVICES],
        os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY") or None,
    )
    say(f"Simpul: data in {data_dir}")
    nats = await _start_nats(data_dir, secrets)
    envs = _service_envs(args, data_dir, ports, nats.url, secrets)
    stop = _stop_on_signals()
    hub = _Hub(
        data_dir=data_dir,
        port=args.port,
        front=front,
        secrets=secrets,
        nats=nats,
        envs=envs,
        processes=_service_processes(envs, ports, data_dir, args.background_nice),
        server=_gateway_server(ports, envs, args.port),
        door_port=ports[EMAIL_DOOR],
    )
    stop_nats_watch = threading.Event()
    watcher = asyncio.create_task(asyncio.to_thread(_watch_nats, nats, stop_nats_watch, hub.save_state))
    startup = asyncio.create_task(hub.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        return await hub.serve(startup, stopping)
    except (RuntimeError, TimeoutError) as exc:
        say(f"Simpul could not start: {exc}")
        return 1
    finally:
        stopping.cancel()
        stop_nats_watch.set()
        await watcher
        await hub.stop()


async def _start_nats(data_dir: Path, secrets: HubSecrets) -> NatsServer:
    say("  starting nats-server (JetStream) ...")
    nats = NatsServer(
        data_dir=data_dir / "nats", server_name="simpul-embedded", users=hub_users(secrets.nats_passwords)
    )
    await asyncio.to_thread(nats.start)
    say(f"  nats-server ready at {nats.url} (pid {nats.process.pid if nats.process else '?'})")
    return nats


def _service_envs(
    args: argparse.Namespace, data_dir: Path, ports: dict[str, int], nats_url: str, secrets: HubSecrets
) -> dict[str, dict[str, str]]:
    hub = HubSetup(
        data_dir=data_dir,
        nats_url=nats_url,
        secrets=secrets,
        gateway_url=f"http://127.0.0.1:{args.port}",
        postgres=args.postgres,
        schema_prefix=args.schema_prefix,
    )
    return {s.name: service_env(s, hub, ports[s.name]) for s in SERVICES} | {WEB: web_env(hub, ports[WEB])}


def _service_processes(
    envs: dict[str, dict[str, str]], ports: dict[str, int], data_dir: Path, background_nice: int
) -> list[ManagedProcess]:
    return [
        ManagedProcess(
            name=s.name,
            argv=python_module_argv(s.package),
            env=child_env(envs[s.name]),
            port=ports[s.name],
            log_path=data_dir / "logs" / f"{s.name}.log",
            nice=0 if s.front_door else background_nice,
        )
        for s in SERVICES
    ] + [
        ManagedProcess(
            name=WEB,
            argv=python_module_argv("services.web"),
            env=child_env(envs[WEB]),
            port=ports[WEB],
            log_path=data_dir / "logs" / f"{WEB}.log",
        )
    ]


def _stop_on_signals() -> asyncio.Event:
    """Set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _gateway_server(ports: dict[str, int], envs: dict[str, dict[str, str]], port: int) -> _GatewayServer:
    upstreams = [
        Upstream(
            s.name,
            s.api_prefixes,
            f"http://127.0.0.1:{ports[s.name]}",
            service_body_limit(s.env_prefix, os.environ | envs[s.name]),
            service_upload_limit(s.env_prefix, os.environ | envs[s.name]),
        )
        for s in SERVICES
    ]
    return _GatewayServer(
        uvicorn.Config(
            create_gateway(upstreams, web=f"http://127.0.0.1:{ports[WEB]}"),
            host="127.0.0.1",
            port=port,
            loop="none",
            http=GatewayHttpProtocol,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    )


@dataclass
class _Hub:
    """One `simpul up`'s processes and gateway, and the order in which they start, serve and stop."""

    data_dir: Path
    port: int
    front: socket.socket
    secrets: HubSecrets
    nats: NatsServer
    envs: dict[str, dict[str, str]]
    processes: list[ManagedProcess]
    server: _GatewayServer
    door_port: int
    supervisor: Supervisor = field(init=False)
    doors: Supervisor = field(init=False)
    email_door: str = "off"
    """The banner's line about the email door."""

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.processes, say, on_change=self.save_state)
        self.doors = Supervisor([], say, on_change=self.save_state)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def save_state(self) -> None:
        nats = self.nats
        write_state(
            self.data_dir,
            {
                "supervisor_pid": os.getpid(),
                "data_dir": str(self.data_dir),
                "gateway": {"url": self.url, "port": self.port},
                "nats": {
                    "pid": nats.process.pid if nats.process else None,
                    "url": nats.url,
                    "port": nats.port,
                    "monitor_port": nats.monitor_port,
                },
                "services": {p.name: {"pid": p.pid, "port": p.port, "restarts": p.restarts} for p in self.processes},
                "doors": {p.name: {"pid": p.pid, "port": p.port, "restarts": p.restarts} for p in self.doors.processes},
            },
        )

    async def start(self) -> asyncio.Task[None]:
        """Streams, migrations, the services, then the gateway: its serving task, once it listens."""
        await create_streams(self.nats.url, self.secrets.nats_passwords[OPS])
        say("  applying migrations ...")
        await _migrate(list(SERVICES), self.envs, self.data_dir / "logs")
        await self.supervisor.start_all()
        serve = asyncio.create_task(serve_gateway(self.server, self.front))
        while not self.server.started and not serve.done():  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.05)
        if serve.done():
            raise RuntimeError(f"the gateway could not listen on port {self.port}")
        await self.start_doors()
        return serve

    async def start_doors(self) -> None:
        """The protocol doors, once the API answers (they are its clients): the email door."""
        admin_key = self.secrets.new_admin_key or os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY") or None
        plan = await plan_email_door(self.data_dir, self.url, self.secrets, admin_key, self.door_port)
        if plan.process is not None:
            self.doors.processes.append(plan.process)
        self.email_door = await start_email_door(plan, self.doors)

    async def serve(self, startup: asyncio.Task[asyncio.Task[None]], stopping: asyncio.Task[Literal[True]]) -> int:
        """Serve from the end of `startup` until `stopping` ends; 130 if it ends first."""
        await asyncio.wait({startup, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not startup.done():
            startup.cancel()
            say("Interrupted during start-up.")
            return 130
        serve = startup.result()
        self.save_state()
        _banner(self.url, self.secrets, self.data_dir, self.email_door)
        await asyncio.wait({serve, stopping}, return_when=asyncio.FIRST_COMPLETED)
        say("Stopping ...")
        self.server.should_exit = True
        await serve
        return 0

    async def stop(self) -> None:
        await self.doors.stop_all()
        await self.supervisor.stop_all()
        await asyncio.to_thread(self.nats.stop)
        clear_state(self.data_dir)
        say("Simpul stopped.")


async def create_streams(nats_url: str, ops_password: str) -> None:
    """Create the streams and the files' buckets as `ops`: the services may only look them up."""
    try:
        nc = await nats.connect(
            nats_url,
            name="simpul-up",
            user=OPS,
            password=ops_password,
            inbox_prefix=inbox_prefix(OPS),
            allow_reconnect=False,
            connect_timeout=5,
        )
    except Exception as exc:
        raise RuntimeError(f"could not connect to {nats_url} as {OPS}: {exc!r}") from exc
    try:
        js = nc.jetstream()
        await ensure_streams(js, update_dead_letters=True)
        await ensure_buckets(js)
    except Exception as exc:
        raise RuntimeError(f"could not create the streams and buckets on {nats_url}: {exc!r}") from exc
    finally:
        await nc.close()


def _front_door(port: int) -> socket.socket:
    """The gateway's port, bound at once (listened on once the hub is up), so that nothing takes it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


async def serve_gateway(server: uvicorn.Server, front: socket.socket) -> None:
    """uvicorn ends a failed start-up with sys.exit(), which would leave the event loop at once, with the services
    and nats-server still running: here it is an error that the start-up's own clean-up handles."""
    try:
        await server.serve(sockets=[front])
    except SystemExit as exc:
        raise RuntimeError(f"the gateway could not start (uvicorn exited with {exc.code})") from exc


class _GatewayServer(uvicorn.Server):
    """The gateway's uvicorn, minus its own signal handling: `simpul up` handles signals for every process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _watch_nats(nats: NatsServer, stop: threading.Event, on_change: object) -> None:
    """Restart the embedded nats-server if it dies (same ports, same store)."""
    while not stop.wait(0.5):
        proc = nats.process
        if proc is not None and proc.poll() is not None and not stop.is_set():
            say(f"  nats-server exited with {proc.returncode}; restarting")
            try:
                nats.start()
                if callable(on_change):
                    on_change()
                say(f"  nats-server restarted (pid {nats.process.pid if nats.process else '?'})")
            except (RuntimeError, TimeoutError) as exc:
                say(f"  nats-server restart failed: {exc}")


def _banner(url: str, secrets: HubSecrets, data_dir: Path, email_door: str) -> None:
    say("")
    say(f"Simpul is up at {url}")
    say(f"  portal:     {url}/ (report a problem, track a case)")
    say(f"  API docs:   {url}/docs")
    say(f"  Email door: {email_door}")
    say(f"  logs:       {data_dir / 'logs'}")
    if secrets.new_admin_key:
        say(f"  admin key:  {secrets.new_admin_key}")
        say("              (shown this once; only its hash is kept. Keep it safe.)")
    elif os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY"):
        say("  admin key:  from SIMPUL_BOOTSTRAP_ADMIN_KEY")
    else:
        say("  admin key:  the one printed on first start (its hash is in secrets.json)")
    if secrets.sms_signing_secret:
        say(f"  SMS gateway: signing secret `sms_signing_secret` in {data_dir / 'secrets.json'} (docs/channels.md)")
    say("Press Ctrl-C to stop.")
    sys.stdout.flush()

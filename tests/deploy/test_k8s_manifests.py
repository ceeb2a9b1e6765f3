"""deploy/k8s: every manifest is valid against the Kubernetes schemas (kubernetes-validate's own copies, no download),
every kustomization names files that exist, every kustomization renders (with kubectl, or kustomize, when installed)
into resources that are valid against the same schemas, and the example overlay renders into what the deployment
needs: a Deployment per service and for the portal with its probes, limits and non-root user, its Service, PDB and
HPA, the jobs, and Ingresses that route each prefix to its service and every other path to the portal; the optional
email door renders with the Secret it reads. The kustomizations are written for Debian's kubectl 1.20 (its
kustomize v2) as well as for today's; CI installs Debian's kubectl, so there a missing kubectl fails the render."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.registry import SERVICES
from services.web.settings import WebSettings
from shared.http.limits import DEFAULT_MAX_UPLOAD_BODY_BYTES

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy/k8s"
KUBERNETES_VERSION = "1.32"
NOT_MANIFESTS = {"kustomization.yaml", "Chart.yaml", "values.yaml", "values-auth.yaml"}
KUSTOMIZATIONS = sorted(k.parent for k in K8S.rglob("kustomization.yaml"))
RUN_LIKE_A_SERVICE = (*(s.name for s in SERVICES), "web")
"""What base/app runs: the four services and the portal."""


def spec_of(directory: Path) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return spec


def patch_files() -> set[Path]:
    return {d / p["path"] for d in KUSTOMIZATIONS for p in spec_of(d).get("patchesJson6902", [])}


def manifest_files() -> list[Path]:
    patches = patch_files()
    return sorted(p for p in K8S.rglob("*.yaml") if p.name not in NOT_MANIFESTS and p not in patches)


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def validate(doc: dict[str, Any], where: str) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{where}: {doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_each_manifest_validates_against_the_kubernetes_schemas(path: Path) -> None:
    docs = documents(path.read_text())
    assert docs, f"{path} holds no resource"
    for doc in docs:
        validate(doc, str(path.relative_to(REPO)))


def test_every_kustomization_names_what_exists() -> None:
    assert len(KUSTOMIZATIONS) >= 9
    for directory in KUSTOMIZATIONS:
        spec = spec_of(directory)
        for entry in spec.get("resources", []):  # kustomize v2 reads files only here, folders under bases
            assert (directory / entry).is_file(), f"{directory}: resources: {entry}"
        for entry in spec.get("bases", []):
            assert (directory / entry / "kustomization.yaml").is_file(), f"{directory}: bases: {entry}"
    for patch in patch_files():
        ops = yaml.safe_load(patch.read_text())
        assert ops and all(op["op"] in {"add", "replace", "remove"} for op in ops), patch


@functools.cache
def kustomize_build(directory: Path) -> str:
    kubectl, kustomize = shutil.which("kubectl"), shutil.which("kustomize")
    if kubectl:
        argv = [kubectl, "kustomize", str(directory)]
    elif os.environ.get("CI") == "true":
        pytest.fail("kubectl is missing in CI: .ci/run installs Debian's kubernetes-client for this render")
    elif kustomize:
        argv = [kustomize, "build", str(directory)]
    else:
        pytest.skip("neither kubectl nor kustomize is installed (apt-get install kubernetes-client): not rendered")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"
    return done.stdout


def render(directory: Path) -> list[dict[str, Any]]:
    return documents(kustomize_build(directory))


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda d: str(d.relative_to(K8S)))
def test_every_kustomization_renders_into_valid_resources(directory: Path) -> None:
    docs = render(directory)
    assert docs, f"{directory} renders nothing"
    named = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert len(named) == len(docs), f"{directory} renders one resource twice"
    for doc in docs:
        validate(doc, f"kubectl kustomize {directory.relative_to(REPO)}")
        if doc["kind"] not in {"Namespace", "Secret"}:  # the overlay's own, made per cluster
            part_of = doc["metadata"]["labels"].get("app.kubernetes.io/part-of")
            assert part_of == "simpul", f"{directory}: {doc['kind']}/{doc['metadata']['name']}"


@pytest.fixture(scope="module")
def example() -> dict[tuple[str, str], dict[str, Any]]:
    docs = render(K8S / "overlays/example")
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def test_the_example_renders_every_service_with_probes_limits_and_a_non_root_user(example: dict) -> None:
    for role in RUN_LIKE_A_SERVICE:
        name = f"simpul-{role}"
        deployment = example[("Deployment", name)]
        assert deployment["metadata"]["namespace"] == "simpul"
        assert deployment["spec"]["replicas"] == 2
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["args"] == [role]
        assert container["image"] == "registry.example.org/simpul:0.1.0"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert [e.get("secretRef", {}).get("name") for e in container["envFrom"]] == [None, name]
        assert example[("Secret", name)]["stringData"], "the example has the Secret the Deployment reads"

        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == labels
        assert example[("Service", name)]["spec"]["selector"] == labels
        assert example[("PodDisruptionBudget", name)]["spec"]["selector"]["matchLabels"] == labels
        hpa = example[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"]["name"] == name and hpa["minReplicas"] == 2
        assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    selectors = [
        tuple(sorted(example[("Service", f"simpul-{r}")]["spec"]["selector"].items())) for r in RUN_LIKE_A_SERVICE
    ]
    assert len(set(selectors)) == len(RUN_LIKE_A_SERVICE), "no Service selects another service's pods"


def test_the_ingress_routes_each_prefix_to_its_service_the_docs_to_the_gateway_and_the_rest_to_the_portal(
    example: dict,
) -> None:
    routes: dict[str, str] = {}
    for ingress in ("simpul", "simpul-web"):
        (rule,) = example[("Ingress", ingress)]["spec"]["rules"]
        assert rule["host"] == "simpul.example.org"
        for path in rule["http"]["paths"]:
            assert path["path"] not in routes, f"{path['path']} is routed twice"
            routes[path["path"]] = path["backend"]["service"]["name"]
    for spec in SERVICES:
        for prefix in spec.api_prefixes:
            assert routes[prefix] == f"simpul-{spec.name}"
    assert routes["/api/v1/reference"] == "simpul-routing"
    for path in ("/docs", "/openapi.json", "/healthz", "/readyz", "/api"):
        assert routes[path] == "simpul-gateway", "an unknown API path is the gateway's JSON 404, not a page"
    assert routes["/"] == "simpul-web"
    assert {name for name in routes.values()} <= {name for kind, name in example if kind == "Service"}
    config = example[("ConfigMap", "simpul-config")]["data"]
    assert config["SIMPUL_WEB_API_BASE_URL"] == "http://simpul-gateway", "the gateway names the portal to intake"
    assert config["SIMPUL_GATEWAY_WEB_URL"] == "http://simpul-web"
    assert config["SIMPUL_WEB_PUBLIC_BASE_URL"].startswith("https://"), "Secure cookies"


def test_the_portals_ingress_lets_its_largest_form_through_streamed(example: dict) -> None:
    annotations = example[("Ingress", "simpul-web")]["metadata"]["annotations"]
    size = annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 > WebSettings.model_fields["max_report_bytes"].default
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert example[("Ingress", "simpul-web")]["spec"]["tls"] == example[("Ingress", "simpul")]["spec"]["tls"]


def test_the_optional_email_door_renders_with_the_secret_it_reads(example: dict) -> None:
    assert not any(name == "simpul-email-door" for _, name in example), "not in the example: it is optional"
    door = {(d["kind"], d["metadata"]["name"]): d for d in render(K8S / "email-door")}
    pod = door[("Deployment", "simpul-email-door")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["email-door"]
    assert [e["secretRef"]["name"] for e in container["envFrom"]] == ["simpul-email-door"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SIMPUL_EMAIL_API_URL"] == "http://simpul-gateway"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (port,) = door[("Service", "simpul-email-door")]["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (25, "smtp")
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"smtp": 2525, "http": 8025}
    (secret,) = documents((K8S / "email-door/secret.example.yaml").read_text())
    assert set(secret["stringData"]) == {"SIMPUL_EMAIL_API_KEY", "SIMPUL_EMAIL_REPLY_SECRET"}
    notify = example[("Secret", "simpul-notify")]["stringData"]
    assert secret["stringData"]["SIMPUL_EMAIL_REPLY_SECRET"] == notify["SIMPUL_NOTIFY_REPLY_SECRET"], "one secret"


def test_the_jobs_and_secrets_of_the_example(example: dict) -> None:
    migrate = example[("Job", "simpul-migrate")]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate-all"]
    assert {e["name"] for e in migrate["env"]} == {f"{s.env_prefix}DATABASE_URL" for s in SERVICES}
    streams = example[("Job", "simpul-streams")]["spec"]["template"]["spec"]["containers"][0]
    assert streams["args"] == ["streams"]
    assert example[("ConfigMap", "simpul-config")]["data"]["SIMPUL_STREAM_REPLICAS"] == "3"
    assert set(example[("Secret", "simpul-web")]["stringData"]) == {"SIMPUL_WEB_SECRET"}
    for (kind, name), doc in example.items():
        if kind == "Secret":  # placeholders only: no Fernet key, password or hash
            for key, value in doc["stringData"].items():
                assert value.startswith(("PASSWORD", "FERNET", "ADMIN", "postgresql+asyncpg://")), (name, key)
                assert ":PASSWORD@" in value or not value.startswith("postgresql"), (name, key)


def test_intake_reads_the_sms_doors_secret_and_keywords(example: dict) -> None:
    assert example[("Secret", "simpul-intake")]["stringData"]["SIMPUL_INTAKE_SMS_SIGNING_SECRET"] == "PASSWORD"
    assert example[("ConfigMap", "simpul-config")]["data"]["SIMPUL_INTAKE_SMS_KEYWORDS"] == ""
    others = [name for (kind, name), doc in example.items() if kind == "Secret" and name != "simpul-intake"]
    assert not any("SMS_SIGNING" in str(example[("Secret", name)]["stringData"]) for name in others)


def test_each_services_secret_holds_exactly_the_shared_rings_it_uses(example: dict) -> None:
    for channel in ("identity", "contact", "files"):
        holders = [s for s in SERVICES if channel in s.channels]
        for spec in SERVICES:
            data = example[("Secret", f"simpul-{spec.name}")]["stringData"]
            assert (f"{spec.env_prefix}{channel.upper()}_KEYS" in data) == (spec in holders), (spec.name, channel)
        placeholders = {
            example[("Secret", f"simpul-{s.name}")]["stringData"][f"{s.env_prefix}{channel.upper()}_KEYS"]
            for s in holders
        }
        assert placeholders == {f"FERNET-{channel.upper()}-RING"}, "one ring, the same in every holder"


def test_the_ingress_lets_an_upload_of_the_largest_file_through_streamed(example: dict) -> None:
    annotations = example[("Ingress", "simpul")]["metadata"]["annotations"]
    size = annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 >= DEFAULT_MAX_UPLOAD_BODY_BYTES
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"


def test_the_services_have_a_writable_data_folder_for_uploads_in_flight(example: dict) -> None:
    for spec in SERVICES:
        pod = example[("Deployment", f"simpul-{spec.name}")]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        # The root file system is read-only; the image sets SIMPUL_<SERVICE>_DATA_DIR=/var/lib/simpul.
        assert "emptyDir" in volumes[mounts["/var/lib/simpul"]], spec.name
        assert pod["securityContext"]["fsGroup"] == 10001

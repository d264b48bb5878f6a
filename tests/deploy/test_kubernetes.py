"""deploy/k8s, checked without a cluster: every overlay renders with `kubectl kustomize` and each
object validates against the Kubernetes schemas (kubernetes-validate, offline, strict); then
the rules of issue 15: worker replicas and resources, a shutdown grace longer than the longest
activity, a liveness probe on the worker's /healthz, secrets only from Secrets, the setup Job,
and each Temporal target wired as documented."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
SECRET_NAME = re.compile(r"(PASSWORD|SECRET_KEY|TOKEN|API_KEY|PRIVATE_KEY|HMAC|DATABASE_URL)", re.I)


def longest_activity() -> timedelta:
    """The longest start-to-close timeout of any activity: core/limits.py's table, and any
    override a workflow gives (``timeout=timedelta(...)``)."""
    from core.limits import LIMITS

    found = [lim.start_to_close for lim in LIMITS.values()]
    for path in (ROOT / "workflows").rglob("*.py"):
        for unit, n in re.findall(r"timeout=timedelta\((seconds|minutes|hours)=(\d+)\)", path.read_text()):
            found.append(timedelta(**{unit: int(n)}))
    return max(found)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing on CI, where it should be installed: the overlays went unchecked")
        pytest.skip("kubectl is not installed: the Kustomize overlays were not rendered (install kubectl to check them)")
    work = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, work, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(["sh", str(work / "make-secrets.sh")], check=True, capture_output=True, timeout=30)
    out = {}
    for overlay in OVERLAYS:
        run = subprocess.run([kubectl, "kustomize", str(work / "overlays" / overlay)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, f"{overlay}: {run.stderr}"
        out[overlay] = [d for d in yaml.safe_load_all(run.stdout) if d]
    return out


def find(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name))


def config(objects: list[dict]) -> dict[str, str]:
    return find(objects, "ConfigMap", "portflow-config")["data"]


def problems(objects: list[dict]) -> list[str]:
    found = []
    cfg = config(objects)
    worker = find(objects, "Deployment", "portflow-worker")["spec"]
    pod = worker["template"]["spec"]
    box = pod["containers"][0]
    shutdown = int(cfg.get("PORTFLOW_WORKER_SHUTDOWN_SECONDS", 10))
    if worker.get("replicas", 1) < 2:
        found.append("the worker runs fewer than 2 replicas")
    if not box.get("resources", {}).get("requests") or not box.get("resources", {}).get("limits"):
        found.append("the worker has no resource requests and limits")
    if shutdown < longest_activity().total_seconds():
        found.append(f"PORTFLOW_WORKER_SHUTDOWN_SECONDS {shutdown} is shorter than the longest activity "
                     f"({longest_activity().total_seconds():g} s)")
    if pod.get("terminationGracePeriodSeconds", 30) <= shutdown:
        found.append("terminationGracePeriodSeconds is not longer than the worker's shutdown grace")
    live = box.get("livenessProbe", {}).get("httpGet", {})
    ports = {p["name"]: p["containerPort"] for p in box.get("ports", [])}
    if live.get("path") != "/healthz" or ports.get(live.get("port"), live.get("port")) != int(cfg["PORTFLOW_HEALTH_PORT"]):
        found.append("the worker's liveness probe is not its /healthz on PORTFLOW_HEALTH_PORT")
    for key in cfg:
        if SECRET_NAME.search(key):
            found.append(f"{key} is in the ConfigMap: secrets belong in a Secret")
    for obj in objects:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []):
            if c.get("env") and any(SECRET_NAME.search(e["name"]) and "value" in e for e in c["env"]):
                found.append(f"{obj['metadata']['name']}: a secret as a plain env value")
            image = c["image"]
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                found.append(f"{obj['metadata']['name']}: image {image} is not pinned")
    return found


def test_there_are_the_three_overlays() -> None:
    assert OVERLAYS == ["self-hosted", "temporal-cloud", "temporal-cloud-mtls"]


def test_every_object_is_valid_kubernetes(rendered: dict[str, list[dict]]) -> None:
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for overlay, objects in rendered.items():
        kinds = sorted(o["kind"] for o in objects)
        assert {"Deployment", "Service", "Job", "ConfigMap", "Secret", "PersistentVolumeClaim"} <= set(kinds), kinds
        for obj in objects:
            kubernetes_validate.validate(obj, version, strict=True)
        print(f"\n{overlay}: {len(objects)} objects valid against Kubernetes {version}: {', '.join(kinds)}")


def test_schema_validation_can_fail(rendered: dict[str, list[dict]]) -> None:
    import kubernetes_validate

    worker = copy.deepcopy(find(rendered["self-hosted"], "Deployment", "portflow-worker"))
    worker["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_keeps_the_rules(rendered: dict[str, list[dict]], overlay: str) -> None:
    assert problems(rendered[overlay]) == []


@pytest.mark.parametrize("break_it, problem", [
    (lambda o: find(o, "Deployment", "portflow-worker")["spec"].update(replicas=1), "fewer than 2"),
    (lambda o: find(o, "Deployment", "portflow-worker")["spec"]["template"]["spec"].update(
        terminationGracePeriodSeconds=30), "terminationGracePeriodSeconds"),
    (lambda o: config(o).update(PORTFLOW_WORKER_SHUTDOWN_SECONDS="60"), "shorter than the longest activity"),
    (lambda o: find(o, "Deployment", "portflow-worker")["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe"),
     "liveness"),
    (lambda o: config(o).update(PORTFLOW_TELNYX_API_KEY="KEY0123"), "in the ConfigMap"),
    (lambda o: find(o, "Deployment", "portflow-api")["spec"]["template"]["spec"]["containers"][0].update(
        env=[{"name": "PORTFLOW_SECRET_KEY", "value": "x"}]), "plain env value"),
    (lambda o: find(o, "Job", "portflow-setup")["spec"]["template"]["spec"]["containers"][0].update(
        image="portflow:latest"), "not pinned"),
])
def test_each_rule_catches_its_mistake(rendered: dict[str, list[dict]], break_it, problem: str) -> None:  # noqa: ANN001
    objects = copy.deepcopy(rendered["self-hosted"])
    break_it(objects)
    assert any(problem in p for p in problems(objects)), problems(objects)


def test_setup_job_and_secret_files(rendered: dict[str, list[dict]]) -> None:
    for objects in rendered.values():
        job = find(objects, "Job", "portflow-setup")["spec"]["template"]["spec"]
        assert job["containers"][0]["args"] == ["setup"] and job["restartPolicy"] == "OnFailure"
        cfg = config(objects)
        for name in ("portflow-worker", "portflow-api"):
            box = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
            mounts = {m["mountPath"] for m in box["volumeMounts"]}
            assert cfg["PORTFLOW_SECRETS_DIR"] in mounts, name
        secret = find(objects, "Secret", "portflow-secrets")
        assert {"portflow_secret_key", "portflow_database_url"} <= set(secret["data"])


def test_each_overlay_reaches_its_temporal(rendered: dict[str, list[dict]]) -> None:
    hosted = config(rendered["self-hosted"])
    assert hosted["PORTFLOW_TEMPORAL_ADDRESS"].startswith("temporal-frontend.temporal.svc")
    assert "helm-charts" in (K8S / "overlays" / "self-hosted" / "kustomization.yaml").read_text()

    cloud = rendered["temporal-cloud"]
    sources = find(cloud, "Deployment", "portflow-worker")["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"]
    auth = find(cloud, "Secret", "temporal-cloud-auth")
    assert any(s["secret"]["name"] == auth["metadata"]["name"] for s in sources)
    assert "portflow_temporal_api_key" in auth["data"] and config(cloud)["PORTFLOW_TEMPORAL_TLS"] == "true"

    mtls = rendered["temporal-cloud-mtls"]
    cfg = config(mtls)
    for kind, name in (("Deployment", "portflow-worker"), ("Deployment", "portflow-api"), ("Job", "portflow-setup")):
        box = find(mtls, kind, name)["spec"]["template"]["spec"]["containers"][0]
        mounted = {m["mountPath"] for m in box["volumeMounts"]}
        assert str(Path(cfg["PORTFLOW_TEMPORAL_TLS_CERT"]).parent) in mounted, name
    assert find(mtls, "Secret", "temporal-cloud-mtls")["type"] == "kubernetes.io/tls"


def test_secret_files_stay_out_of_git() -> None:
    ignored = (K8S / ".gitignore").read_text().split()
    assert "base/secrets/" in ignored and "overlays/*/secrets/" in ignored

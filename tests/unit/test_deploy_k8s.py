"""deploy/k8s/, checked without a cluster: every core manifest passes the Kubernetes OpenAPI
schema (kubernetes-validate, strict: no unknown field), the KEDA ScaledObjects (a custom
resource the schemas do not hold) are checked against the Deployments, the code's consumer
groups and the topics' partitions, and every Deployment has probes, resources, a
PodDisruptionBudget, the Secret by reference and a role the image knows."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.unit.deploy_support import (
    K8S,
    PROJECT_IMAGES,
    SINGLE_REPLICA,
    assert_cli_accepts,
    load_yaml_docs,
    production_topics,
    role_command,
    worker_roles,
)

KUBERNETES_VERSION = "1.30.0"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    kustomization = load_yaml_docs(K8S / "kustomization.yaml")[0]
    listed = kustomization["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "kustomization.yaml lists every manifest, and only those"
    return [doc for name in listed for doc in load_yaml_docs(K8S / name)]


def _of(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_core_manifests_pass_the_kubernetes_schema(docs: list[Doc]) -> None:
    core = [d for d in docs if not d["apiVersion"].startswith("keda.sh/")]
    assert len(core) >= 12
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field(docs: list[Doc]) -> None:
    deployment = dict(next(iter(_of(docs, "Deployment").values())))
    deployment["spec"] = dict(deployment["spec"], replica=3)  # `replicas` misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def _container(deployment: Doc) -> Doc:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_deployments_have_probes_resources_pdbs_secrets_and_known_roles(
    docs: list[Doc], tmp_path: Path
) -> None:
    deployments = _of(docs, "Deployment")
    budgets = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
        for p in _of(docs, "PodDisruptionBudget").values()
    }
    roles = set()
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        labels = spec["selector"]["matchLabels"]
        assert labels.items() <= spec["template"]["metadata"]["labels"].items(), name
        assert tuple(sorted(labels.items())) in budgets, f"{name} has no PodDisruptionBudget"
        pod = spec["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        container = _container(deployment)
        assert container["image"].rsplit(":", 1)[0] in PROJECT_IMAGES, name
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container, f"{name} has no {probe}"
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), name
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), name
        refs = {next(iter(k for k in r if k.endswith("Ref"))): r for r in container["envFrom"]}
        assert refs["secretRef"]["secretRef"]["name"] == "borderflow-secrets", name
        assert refs["configMapRef"]["configMapRef"]["name"] in _of(docs, "ConfigMap"), name
        argv = role_command(container["args"], tmp_path)
        assert_cli_accepts(argv)
        roles.add(container["args"][0])
    assert roles == {"api", *worker_roles()}
    secrets = [d for d in docs if d["kind"] == "Secret"]
    assert not secrets, "secrets are created by the operator from deploy/.env, never committed"


def test_jobs_create_the_topics_and_migrate(docs: list[Doc], tmp_path: Path) -> None:
    jobs = _of(docs, "Job")
    migrate = _container(jobs["borderflow-migrate"])
    assert_cli_accepts(role_command(migrate["args"], tmp_path))
    assert role_command(migrate["args"], tmp_path) == ["migrate"]
    topics = jobs["borderflow-topics"]["spec"]["template"]["spec"]
    assert topics["volumes"][0]["configMap"]["name"] == "borderflow-topics"
    assert _container(jobs["borderflow-topics"])["image"].startswith("apache/kafka:3.")


def test_keda_scales_each_worker_on_its_own_group_and_topic_within_the_partitions(
    docs: list[Doc],
) -> None:
    deployments = _of(docs, "Deployment")
    partitions = {name: count for name, (count, _) in production_topics().items()}
    config = _of(docs, "ConfigMap")["borderflow-config"]["data"]
    scaled = {}
    for name, obj in _of(docs, "ScaledObject").items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        spec = obj["spec"]
        target = deployments[spec["scaleTargetRef"]["name"]]  # KeyError: no such Deployment
        role = _container(target)["args"][0]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka"
        meta = trigger["metadata"]
        assert (meta["consumerGroup"], meta.get("topic")) == worker_roles()[role], name
        assert meta["bootstrapServers"] == config["BORDERFLOW_KAFKA_BOOTSTRAP"]
        assert int(meta["lagThreshold"]) > 0
        assert meta["offsetResetPolicy"] == "earliest"  # as the workers' consumers
        assert 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        ceiling = partitions[meta["topic"]] if "topic" in meta else max(partitions.values())
        assert spec["maxReplicaCount"] <= ceiling, (
            f"{name}: more replicas than partitions would idle"
        )
        assert target["spec"]["replicas"] >= spec["minReplicaCount"]
        scaled[role] = spec
    assert set(scaled) == set(worker_roles()) - SINGLE_REPLICA


def test_the_topics_config_map_is_the_files_the_compose_job_mounts() -> None:
    render = runpy.run_path(str(K8S / "render_topics.py"))["render"]
    assert (K8S / "topics.yaml").read_text() == render(), "run deploy/k8s/render_topics.py"


def test_the_control_rooms_session_cookie_is_secure_in_production(docs: list[Doc]) -> None:
    """The API's pods set BORDERFLOW_CONTROL_COOKIE_SECURE (a security review found them on
    its default, false: the control room's session cookie went without `Secure`, so a
    browser sent it over plain HTTP too, where anyone on the path could take the session)."""
    api = _container(_of(docs, "Deployment")["borderflow-api"])
    env = {e["name"]: e.get("value") for e in api.get("env", [])}
    assert env.get("BORDERFLOW_CONTROL_COOKIE_SECURE") == "true"

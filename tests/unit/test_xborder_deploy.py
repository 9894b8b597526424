"""The cross-border link's deployment files (deploy/xborder/, issue 21), checked without a
container engine or a cluster: the command the image runs for them is one the CLI accepts,
one replica that is never doubled during a rollout (the Deployment passes the Kubernetes
schema, strict), the keys from a secret that is never committed, and every setting the
link needs named in the example."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import yaml

from services.xborder.config import XborderSettings
from tests.unit.deploy_support import DEPLOY, assert_cli_accepts, role_command
from tests.unit.test_deploy_k8s import KUBERNETES_VERSION

XBORDER = DEPLOY / "xborder"


def test_compose_runs_one_link_with_its_keys_from_an_ignored_file(tmp_path: Path) -> None:
    service = yaml.safe_load((XBORDER / "compose.link.yaml").read_text())["services"][
        "xborder-link"
    ]
    assert service["extends"]["file"] == "../compose.yaml"
    base = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert service["extends"]["service"] in base
    argv = role_command(service["command"], tmp_path)
    assert argv == ["xborder", "link"]
    assert_cli_accepts(argv)
    assert service["deploy"]["replicas"] == 1
    assert "xborder/link.env" in service["env_file"]
    ignored = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "deploy/xborder/link.env" in ignored
    assert "deploy/xborder/link.env" in (DEPLOY.parent / ".dockerignore").read_text()


def test_kubernetes_runs_one_link_recreated_with_the_keys_secret(tmp_path: Path) -> None:
    (deployment,) = list(yaml.safe_load_all((XBORDER / "link.k8s.yaml").read_text()))
    assert deployment["kind"] == "Deployment"  # one document: no Secret committed
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    (container,) = spec["template"]["spec"]["containers"]
    assert_cli_accepts(role_command(container["args"], tmp_path))
    secrets = {r["secretRef"]["name"] for r in container["envFrom"] if "secretRef" in r}
    assert secrets == {"borderflow-secrets", "borderflow-xborder-keys"}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert probe in container


def test_the_example_names_every_setting_of_the_link() -> None:
    names = {
        line.split("=", 1)[0]
        for line in (XBORDER / "link.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    wanted = {"side", "peer_bootstrap", "signing_key_id", "signing_key", "trusted_keys"}
    assert {f"BORDERFLOW_XBORDER_{n.upper()}" for n in wanted} <= names
    assert wanted <= set(XborderSettings.model_fields)

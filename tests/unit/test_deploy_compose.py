"""deploy/compose.yaml, checked without a container engine: it parses, every image is the
project's or a pinned official one, every dependency and file it names exists, secrets
come only from an env file that is never committed, Kafka is a 3-broker KRaft cluster with
replication 3 and min.insync.replicas 2, and every role's command is one the CLI accepts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy_support import (
    DEPLOY,
    OFFICIAL,
    PROJECT_IMAGES,
    ROOT,
    SINGLE_REPLICA,
    assert_cli_accepts,
    role_command,
    worker_roles,
)

COMPOSE = DEPLOY / "compose.yaml"
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|DATABASE_URL", re.IGNORECASE)


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc["services"], dict)
    return dict(doc["services"])


def _image(service: dict[str, Any]) -> str:
    image = str(service["image"])
    default = re.fullmatch(r"\$\{[A-Z_]+:-([^}]+)\}", image)  # ${VAR:-default}
    return default.group(1) if default else image


def _project(service: dict[str, Any]) -> bool:
    return _image(service).rsplit(":", 1)[0] in PROJECT_IMAGES


def test_every_image_is_the_project_image_or_a_pinned_official_one(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        image = _image(service)
        repository, _, tag = image.partition(":")
        if _project(service):
            assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
            assert (COMPOSE.parent / service["build"]["context"] / "deploy/Dockerfile").exists()
            continue
        assert repository in OFFICIAL, f"{name}: {image} is neither ours nor official"
        assert re.match(r"v?\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"


def test_dependencies_exist_and_their_conditions_can_be_met(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on a missing service {target!r}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no health check"
            elif condition == "service_completed_successfully":
                assert services[target]["restart"] == "no", f"{target} is not a job"
            else:
                assert condition == "service_started", condition


def test_files_it_mounts_or_reads_exist_and_secrets_stay_out_of_git(
    services: dict[str, dict[str, Any]],
) -> None:
    env_files = set()
    for name, service in services.items():
        for env_file in service.get("env_file", []):
            env_files.add(env_file)
            example = COMPOSE.parent / f"{env_file}.example"
            assert example.exists(), f"{name}: {env_file} has no {example.name}"
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).is_file(), f"{name}: {source} is missing"
        for key, value in (service.get("environment") or {}).items():
            assert not SECRET_NAMES.search(key) or "${" in str(value), (
                f"{name}: {key} is a secret written into compose.yaml"
            )
    assert env_files == {".env"}
    for env_file in env_files:
        path = (COMPOSE.parent / env_file).relative_to(ROOT)
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} is not git-ignored"
        assert str(path) in (ROOT / ".dockerignore").read_text().splitlines()
    example = (COMPOSE.parent / ".env.example").read_text()
    assert "BORDERFLOW_DATABASE_URL=" in example and "POSTGRES_PASSWORD=" in example


def test_kafka_is_three_kraft_brokers_replication_3_min_isr_2(
    services: dict[str, dict[str, Any]],
) -> None:
    brokers = {
        n: s
        for n, s in services.items()
        if _image(s).startswith("apache/kafka") and "KAFKA_NODE_ID" in (s.get("environment") or {})
    }
    assert sorted(brokers) == ["kafka-1", "kafka-2", "kafka-3"]
    ids = set()
    for name, broker in brokers.items():
        env = broker["environment"]
        ids.add(env["KAFKA_NODE_ID"])
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
        voters = {v.split("@")[0] for v in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")}
        assert voters == {"1", "2", "3"}
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert broker["volumes"], f"{name} keeps its log on a volume"
    assert ids == {"1", "2", "3"}
    topics = services["topics"]
    assert topics["environment"]["REPLICATION_FACTOR"] == "3"
    assert {"./topics.txt:/etc/borderflow/topics.txt:ro"} <= set(topics["volumes"])


def test_roles_run_commands_the_cli_accepts_and_workers_have_replicas(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    roles = {}
    for service in services.values():
        if not _project(service):
            continue
        argv = role_command(service["command"], tmp_path)
        assert argv[0] in {"api", "migrate", "worker"}, argv
        assert_cli_accepts(argv)
        roles[service["command"][0]] = service
    assert {"api", "migrate", *worker_roles()} <= set(roles)
    for role in worker_roles():
        if role in SINGLE_REPLICA:
            assert roles[role]["deploy"]["replicas"] == 1, f"{role}: holds state, one replica"
            continue
        assert roles[role]["deploy"]["replicas"] >= 2, f"{role}: one replica is no scale-out"
        assert roles[role]["environment"]["BORDERFLOW_METRICS_PORT"] == "9100"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_prometheus_scrapes_services_that_exist_on_their_ports(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    scraped = {}
    for job in config["scrape_configs"]:
        for sd in job["dns_sd_configs"]:
            for name in sd["names"]:
                scraped[name] = sd["port"]
    assert scraped == {"api": 8000, **dict.fromkeys(worker_roles(), 9100)}
    assert all(name in services for name in scraped)
    assert services["prometheus"]["profiles"] == ["monitoring"]

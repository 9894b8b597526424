"""Every topic the code uses (streams.topics.all_topics(), dead-letter twins included, so a
topic added later is covered) is declared for production with a partition count and a
retention, in the one table both the compose job and the k8s Job read; production never
has fewer partitions than the code's own spec."""

from __future__ import annotations

import pytest
import yaml

from services.cli.commands import WORKER_ROLES
from services.runtime.settings import KafkaSettings
from streams.topics import SOURCE_TOPICS, all_topics
from tests.unit.deploy_support import (
    DEPLOY,
    K8S,
    cli_choices,
    load_yaml_docs,
    production_topic_rows,
    production_topics,
    worker_roles,
)

DAY_MS = 24 * 3600 * 1000


def test_every_topic_of_the_code_is_declared_with_partitions_and_retention() -> None:
    declared = production_topics()
    wanted = {spec.name: spec for spec in all_topics()}
    assert set(declared) == set(wanted), (
        f"missing: {sorted(set(wanted) - set(declared))}, "
        f"unknown: {sorted(set(declared) - set(wanted))}"
    )
    for name, (partitions, retention) in declared.items():
        assert partitions >= wanted[name].partitions, name
        assert retention == -1 or retention >= DAY_MS, f"{name}: under a day of retention"
    for spec in SOURCE_TOPICS:
        assert declared[spec.dlq.name][1] >= DAY_MS * 7, "dead letters wait a week for a person"


def test_the_clock_checked_reads_carry_the_brokers_time_in_production() -> None:
    """The decider and call-forward dead-letter a read captured more than a few minutes after
    its record's timestamp (`ClockWindow`). In production that timestamp is the broker's
    (LogAppendTime), not the producer's: a camera whose clock runs days ahead, stamping its
    records from the same clock, would otherwise pass and move the gate's event clock on, and
    every booking before it would expire as a no-show (found by a stranger's try, 2026-12-05).
    The script sets the type when it creates the topic and on every release."""
    rows = production_topic_rows()
    assert rows["borderflow.plate-reads"][2] == "LogAppendTime"
    assert {t for _, _, t in rows.values()} <= {None, "CreateTime", "LogAppendTime"}
    script = (DEPLOY / "create-topics.sh").read_text()
    assert script.count("message.timestamp.type=$timestamps") == 2  # created, and altered


def test_compose_and_kubernetes_read_that_table() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["topics"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["volumes"]}
    assert mounts["/etc/borderflow/topics.txt"] == "./topics.txt"
    assert mounts["/etc/borderflow/create-topics.sh"] == "./create-topics.sh"
    assert compose["entrypoint"][-1] == "/etc/borderflow/create-topics.sh"
    (config_map,) = load_yaml_docs(K8S / "topics.yaml")
    assert config_map["data"]["topics.txt"] == (DEPLOY / "topics.txt").read_text()
    assert config_map["data"]["create-topics.sh"] == (DEPLOY / "create-topics.sh").read_text()
    script = (DEPLOY / "create-topics.sh").read_text()
    assert "--partitions" in script and "--replication-factor" in script
    assert "min.insync.replicas" in script


def test_every_worker_role_of_the_cli_is_deployed_in_compose_and_kubernetes() -> None:
    """A worker added to `borderflow worker` later fails here until deploy/ runs it."""
    aliases = {name: role for role, name in WORKER_ROLES.items()}  # decider -> matcher
    roles = {aliases.get(c, c) for c in cli_choices("worker", "name")}
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    in_compose = {s["command"][0] for s in compose.values() if "command" in s}
    in_k8s = {
        d["spec"]["template"]["spec"]["containers"][0]["args"][0]
        for d in load_yaml_docs(K8S / "deployments.yaml")
    }
    for role in sorted(roles):
        assert role in in_compose, f"worker {role!r} has no service in deploy/compose.yaml"
        assert role in in_k8s, f"worker {role!r} has no Deployment in deploy/k8s/"
        assert role in worker_roles(), f"worker {role!r}: add its group and topic to the checks"


def test_services_that_create_a_missing_topic_replicate_it_three_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert compose["matcher"]["environment"]["BORDERFLOW_KAFKA_REPLICATION_FACTOR"] == "3"
    config = next(d for d in load_yaml_docs(K8S / "config.yaml") if d["kind"] == "ConfigMap")
    assert config["data"]["BORDERFLOW_KAFKA_REPLICATION_FACTOR"] == "3"
    monkeypatch.setenv("BORDERFLOW_KAFKA_REPLICATION_FACTOR", "3")
    assert KafkaSettings().replication_factor == 3  # the setting the services read

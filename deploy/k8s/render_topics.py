"""Write deploy/k8s/topics.yaml: the `borderflow-topics` ConfigMap holding deploy/topics.txt
and deploy/create-topics.sh byte for byte (the compose job mounts the same two files).
Run after editing either: `python deploy/k8s/render_topics.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent.parent
HEADER = (
    "# Generated from deploy/topics.txt and deploy/create-topics.sh (the same bytes, tested).\n"
    "# Regenerate with: python deploy/k8s/render_topics.py\n"
)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the files read as themselves."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        style = "|" if "\n" in data else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _BlockDumper.represent_str)


def render() -> str:
    config_map: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "borderflow-topics",
            "namespace": "borderflow",
            "labels": {"app.kubernetes.io/part-of": "borderflow"},
        },
        "data": {
            name: (DEPLOY / name).read_text(encoding="utf-8")
            for name in ("topics.txt", "create-topics.sh")
        },
    }
    body = yaml.dump(config_map, Dumper=_BlockDumper, sort_keys=False, width=1000)
    return HEADER + str(body)


if __name__ == "__main__":
    (DEPLOY / "k8s" / "topics.yaml").write_text(render(), encoding="utf-8")

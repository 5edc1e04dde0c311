"""The CLI with kinds the hub has no table entry for: custom resources applied from files (with
and without their CRD), listed NAME AGE, shown per cluster, and deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hubharness import Hub, kfed

from kfed_core.keys import ResourceKey

CRONTAB = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
  namespace: team
spec:
  cronSpec: "0 3 * * *"
  image: backup:1
"""

MOOSE = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: moose.zoo.example.com
spec:
  group: zoo.example.com
  scope: Cluster
  names: {plural: moose, singular: moose, kind: Moose, shortNames: [mo]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: zoo.example.com/v1
kind: Moose
metadata:
  name: bullwinkle
spec: {antlers: 2}
"""


def _key(group: str, kind: str, namespace: str, name: str) -> ResourceKey:
    return ResourceKey(group=group, kind=kind, namespace=namespace, name=name)


async def test_a_custom_resource_is_applied_listed_and_deleted_without_its_crd(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "crontab.yaml"
    manifest.write_text(CRONTAB)
    code, out, err = await kfed(capsys, "apply", "-f", str(manifest))
    assert (code, err) == (0, "")
    assert out == "namespace/team created\ncrontab.stable.example.com/nightly created\n"
    code, out, _ = await kfed(capsys, "apply", "-f", str(manifest))
    assert out.splitlines()[1] == "crontab.stable.example.com/nightly unchanged"
    manifest.write_text(CRONTAB.replace("backup:1", "backup:2"))
    code, out, _ = await kfed(capsys, "apply", "-f", str(manifest))
    assert out.splitlines()[1] == "crontab.stable.example.com/nightly configured"
    stored = await hub.store.get_object(_key("stable.example.com", "CronTab", "team", "nightly"))
    assert stored is not None and stored.manifest["spec"]["image"] == "backup:2"

    for name in ("crontabs", "crontab", "CronTab", "crontabs.stable.example.com"):
        code, out, err = await kfed(capsys, "get", name, "-n", "team")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["NAME", "AGE"] and lines[1].split()[0] == "nightly"
    code, out, _ = await kfed(capsys, "get", "crontab", "nightly", "-n", "team", "-o", "yaml")
    served = yaml.safe_load(out)
    assert served["kind"] == "CronTab" and served["spec"]["image"] == "backup:2"
    code, out, _ = await kfed(capsys, "get", "crontabs", "nightly", "-n", "team", "--clusters")
    assert [line for line in out.splitlines() if line.startswith("CLUSTER")] == [
        "CLUSTER east (Ready)",
        "CLUSTER west (Ready)",
    ]
    assert out.count("nightly") == 2 and "Pending" in out

    only = tmp_path / "only-crontab.yaml"
    only.write_text(CRONTAB.split("---\n")[1])
    code, out, _ = await kfed(capsys, "delete", "-f", str(only))
    assert (code, out) == (0, 'crontab.stable.example.com "nightly" deleted\n')
    code, out, err = await kfed(capsys, "get", "crontabs", "-n", "team")
    assert code == 1 and 'the server doesn\'t have a resource type "crontabs"' in err
    code, out, err = await kfed(capsys, "delete", "-f", str(only))
    assert code == 1
    assert err == (
        f'Error from server (NotFound): error when deleting "{only}": '
        'crontabs.stable.example.com "nightly" not found\n'
    )
    code, out, err = await kfed(capsys, "delete", "ns", "team")
    assert code == 0, err
    assert await hub.store.list_objects() == []


async def test_a_custom_resource_without_a_namespace_goes_to_default(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "widget.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    code, out, err = await kfed(capsys, "create", "-f", str(manifest))
    assert (code, out, err) == (0, "widget.example.com/w created\n", "")
    assert await hub.store.get_object(_key("example.com", "Widget", "default", "w")) is not None
    code, out, err = await kfed(capsys, "create", "-f", str(manifest))
    assert code == 1 and 'widgets.example.com "w" already exists' in err
    code, out, _ = await kfed(capsys, "delete", "widget", "w")
    assert (code, out) == (0, 'widget.example.com "w" deleted\n')


async def test_a_crd_in_the_same_file_names_the_plural_and_scope_of_its_kind(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "moose.yaml"
    manifest.write_text(MOOSE)
    code, out, err = await kfed(capsys, "apply", "-f", str(manifest))
    assert (code, err) == (0, "")
    assert out == (
        "customresourcedefinition.apiextensions.k8s.io/moose.zoo.example.com created\n"
        "moose.zoo.example.com/bullwinkle created\n"
    )
    # cluster-scoped, as the CRD says, and at its plural ("moose", not the guess "mooses")
    assert await hub.store.get_object(_key("zoo.example.com", "Moose", "", "bullwinkle"))
    code, out, _ = await kfed(capsys, "get", "mo")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "bullwinkle"]
    code, out, _ = await kfed(capsys, "get", "crd")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "moose.zoo.example.com"]
    code, out, _ = await kfed(capsys, "apply", "-f", str(manifest))
    assert out.endswith("moose.zoo.example.com/bullwinkle unchanged\n")
    code, out, _ = await kfed(capsys, "delete", "crd", "moose.zoo.example.com")
    assert (code, out) == (
        0,
        'customresourcedefinition.apiextensions.k8s.io "moose.zoo.example.com" deleted\n',
    )
    assert await hub.store.list_objects() == []  # its custom resources went with it

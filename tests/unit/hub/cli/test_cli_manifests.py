"""Reading manifests: multi-document YAML, JSON, directories, Lists, and errors with places."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfed_hub.cli.manifests import ManifestError, load_documents

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"


def test_a_directory_gives_its_manifests_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    )
    (tmp_path / "notes.txt").write_text("ignored")
    documents = load_documents([str(tmp_path)])
    assert [d.manifest["metadata"]["name"] for d in documents] == ["a", "b"]
    assert documents[0].source == str(tmp_path / "a.json")


def test_multi_document_yaml_and_lists_are_expanded(tmp_path: Path) -> None:
    path = tmp_path / "all.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: c}}\n"
    )
    assert [d.manifest["kind"] for d in load_documents([str(path)])] == [
        "Namespace",
        "ConfigMap",
        "Secret",
    ]


def test_the_walkthrough_manifests_load_unchanged() -> None:
    documents = load_documents([str(EXAMPLES / "replicasets"), str(EXAMPLES / "configmaps")])
    assert [(d.manifest["kind"], d.manifest["metadata"]["name"]) for d in documents] == [
        ("ReplicaSet", "nginx"),
        ("ReplicaSet", "nginx-us"),
        ("ConfigMap", "zone-fetch"),
    ]
    volumes = documents[0].manifest["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["configMap"]["defaultMode"] == 0o777  # YAML 1.1 octal, as kubectl reads it


def test_malformed_yaml_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2: x\n")
    with pytest.raises(ManifestError) as caught:
        load_documents([str(path)])
    message = str(caught.value)
    assert message.startswith(f"error parsing {path}: ")
    assert "(line 4, column 20)" in message
    assert "hunter2" not in message


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"apiVersion": "v1",\n "kind": }')
    with pytest.raises(ManifestError, match=r"line 2, column 10"):
        load_documents([str(path)])


def test_objects_need_api_version_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("metadata: {name: x}\n")
    with pytest.raises(ManifestError, match=r"\[apiVersion not set, kind not set\]"):
        load_documents([str(path)])


def test_missing_paths_and_empty_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        load_documents([str(tmp_path / "absent.yaml")])
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    with pytest.raises(ManifestError, match="no objects passed to create"):
        load_documents([str(tmp_path / "empty.yaml")], verb="create")

"""Drift: what the agent counts as a change someone else made to an object it applied."""

from __future__ import annotations

import base64

from kfed_agent.drift import drifted, holds


def test_server_defaults_and_extra_fields_are_not_drift() -> None:
    applied = {"spec": {"ports": [{"port": 80}]}}
    live = {"spec": {"ports": [{"port": 80, "protocol": "TCP"}], "clusterIP": "10.0.0.1"}}
    assert holds(applied, live)


def test_a_changed_or_missing_field_is_drift() -> None:
    applied = {"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}
    assert drifted(applied, {"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "x"}})
    assert drifted(applied, {"kind": "ConfigMap", "metadata": {"name": "a"}})


def test_secret_string_data_is_compared_as_the_data_it_becomes() -> None:
    applied = {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}}
    stored = {
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"pw": base64.b64encode(b"hunter2").decode()},
    }
    assert not drifted(applied, stored)
    tampered = {**stored, "data": {"pw": base64.b64encode(b"other").decode()}}
    assert drifted(applied, tampered)


def test_unknown_applied_manifest_is_never_drift() -> None:
    assert not drifted(None, {"kind": "ConfigMap"})

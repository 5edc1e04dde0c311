"""Decoding Kubernetes protobuf request bodies (kfed_local.sim.k8sproto).

Two kinds of evidence: bodies that the real kubectl 1.37 sent for ``kubectl create ...`` (captured
from the wire, pasted as hex) must decode to exactly the JSON that kubectl prints for the same
command with ``--dry-run=client -o json``; and bodies built here with a tiny encoder, whose field
numbers are written out by hand from the API's ``generated.proto`` files, exercise what kubectl's
generators never send (full pod templates, probes, volumes, time stamps, CRD schemas).
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfed_local.sim import k8sproto
from kfed_local.sim.k8sproto import (
    PROTOBUF_CONTENT_TYPE,
    ProtobufDecodeError,
    UnsupportedKindError,
    decode_kubernetes_protobuf,
)
from kfed_local.sim.resources import builtin_types
from kfed_local.sim.schema import definitions

# -- a tiny protobuf encoder ---------------------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def num(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def msg(field: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def text(field: int, value: str) -> bytes:
    return msg(field, value.encode())


def double(field: int, value: float) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", value)


def entry(field: int, key: str, value: bytes) -> bytes:
    """One map entry: key 1, value 2 (``value`` is already an encoded field 2)."""
    return msg(field, text(1, key), value)


def body(api_version: str, kind: str, *raw: bytes) -> bytes:
    type_meta = msg(1, text(1, api_version), text(2, kind))
    return b"k8s\x00" + type_meta + msg(2, *raw) + msg(3) + msg(4)


def time(field: int, seconds: int, nanos: int = 0) -> bytes:
    return msg(field, num(1, seconds), num(2, nanos))


def int_or_string(field: int, value: int | str) -> bytes:
    if isinstance(value, str):
        return msg(field, num(1, 1), num(2, 0), text(3, value))
    return msg(field, num(1, 0), num(2, value), text(3, ""))


def quantity(field: int, value: str) -> bytes:
    return msg(field, text(1, value))


# -- captured from kubectl 1.37.1 ----------------------------------------------------------------

CAPTURED: dict[str, tuple[str, str]] = {
    "create namespace x": (
        "6b3873000a0f0a02763112094e616d65737061636512190a110a017812001a0022002a0032003800420012"
        "001a020a001a002200",
        '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"},"spec":{},"status":{}}',
    ),
    "create configmap c --from-literal=a=b --from-file=f.txt --from-file=bin.dat": (
        "6b3873000a0f0a0276311209436f6e6669674d617012410a110a016312001a0022002a0032003800420012"
        "060a016112016212130a0762696e2e6461741208000162696e617279120f0a05662e747874120668656c6c"
        "6f0a1a002200",
        '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"a":"b","b'
        'in.dat":"\\u0000\\u0001binary","f.txt":"hello\\n"}}',
    ),
    "create configmap bincm --from-file=raw.bin --from-literal=k=v": (
        "6b3873000a0f0a0276311209436f6e6669674d617012320a150a0562696e636d12001a0022002a00320038"
        "00420012060a016b1201761a110a077261772e62696e1206fffe0062696e1a002200",
        '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"bincm"},"data":{"k":"v'
        '"},"binaryData":{"raw.bin":"//4AYmlu"}}',
    ),
    "create secret generic s --from-literal=k=v": (
        "6b3873000a0c0a0276311206536563726574121d0a110a017312001a0022002a0032003800420012060a01"
        "6b1201761a001a002200",
        '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},"data":{"k":"dg=="}}',
    ),
    "create serviceaccount sa": (
        "6b3873000a140a027631120e536572766963654163636f756e7412140a120a02736112001a0022002a0032"
        "00380042001a002200",
        '{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa"}}',
    ),
    "create deployment web --image=nginx --replicas=2 --port=80": (
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b8010a1f0a0377656212001a002200"
        "2a003200380042005a0a0a0361707012037765621286010802120c0a0a0a0361707012037765621a6c0a1c"
        "0a0012001a0022002a003200380042005a0a0a036170701203776562124c122e0a056e67696e7812056e67"
        "696e782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a00"
        "52005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a"
        "002200",
        '{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","labels":{"'
        'app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"temp'
        'late":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx"'
        ',"image":"nginx","ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}'
        '},"status":{}}',
    ),
    "create service clusterip svc --tcp=80:8080": (
        "6b3873000a0d0a02763112075365727669636512690a1f0a0373766312001a0022002a003200380042005a"
        "0a0a03617070120373766312420a1b0a0738302d38303830120354435018502207080010903f1a00280012"
        "0a0a0361707012037376631a002209436c757374657249503a00420052005a00600068001a020a001a0022"
        "00",
        '{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc","labels":{"app":"sv'
        'c"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":'
        '8080}],"selector":{"app":"svc"},"type":"ClusterIP"},"status":{"loadBalancer":{}}'
        "}",
    ),
    # Sent with -n viaproto, hence the namespace that the dry run does not print.
    "create ingress ing --rule=foo.com/bar=svc1:8080 "
    "--rule=bar.com/*=svc2:http,tls=my-cert --class=nginx --annotation=a=b": (
        "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312a5010a230a"
        "03696e6712001a0876696170726f746f22002a0032003800420062060a0161120162127a12120a07626172"
        "2e636f6d12076d792d636572741a2d0a07666f6f2e636f6d12220a200a1e0a042f626172120f220d0a0473"
        "76633112050a0010903f1a0545786163741a2e0a076261722e636f6d12230a210a1f0a012f121222100a04"
        "7376633212080a046874747010001a0650726566697822056e67696e781a020a001a002200",
        '{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"ing","'
        'namespace":"viaproto","annotations":{"a":"b"}},"spec":{"ingressClassName":"nginx'
        '","tls":[{"hosts":["bar.com"],"secretName":"my-cert"}],"rules":[{"host":"foo.com'
        '","http":{"paths":[{"path":"/bar","pathType":"Exact","backend":{"service":{"name'
        '":"svc1","port":{"number":8080}}}}]}},{"host":"bar.com","http":{"paths":[{"path"'
        ':"/","pathType":"Prefix","backend":{"service":{"name":"svc2","port":{"name":"htt'
        'p"}}}}]}}]},"status":{"loadBalancer":{}}}',
    ),
}
"""kubectl command: (the body it sent, hex; the JSON it prints with --dry-run=client -o json)."""


@pytest.mark.parametrize("command", list(CAPTURED))
def test_kubectl_bodies_decode_to_the_json_kubectl_would_send(command: str) -> None:
    raw, kubectl_json = CAPTURED[command]
    decoded = decode_kubernetes_protobuf(bytes.fromhex(raw))
    # Same keys in the same order: Go's JSON field order, which the stored object keeps.
    assert json.dumps(decoded, separators=(",", ":")) == kubectl_json


def test_secret_bytes_become_base64() -> None:
    raw, _ = CAPTURED["create secret generic s --from-literal=k=v"]
    assert decode_kubernetes_protobuf(bytes.fromhex(raw))["data"] == {"k": "dg=="}


def test_decoding_returns_fresh_objects() -> None:
    raw = bytes.fromhex(CAPTURED["create namespace x"][0])
    first = decode_kubernetes_protobuf(raw)
    first["spec"]["finalizers"] = ["mutated"]
    assert decode_kubernetes_protobuf(raw)["spec"] == {}


# -- hand-encoded bodies -------------------------------------------------------------------------


def _metadata(name: str, *extra: bytes, created: int = 0) -> bytes:
    # Go writes every non-pointer field, zero or not: name, generateName .. generation, time.
    zeros = text(2, "") + text(3, "") + text(4, "") + text(5, "") + text(6, "") + num(7, 0)
    return msg(1, text(1, name), zeros, time(8, created) if created else msg(8), *extra)


def _container() -> bytes:
    http_get = msg(2, text(1, "/healthz"), int_or_string(2, "http"), text(4, "HTTP"))
    readiness = msg(11, msg(1, http_get), num(2, 5), num(3, 0), num(4, 10))
    liveness = msg(10, msg(1, msg(3, int_or_string(1, 8080))), num(6, 3))
    return msg(
        2,  # PodSpec.containers
        text(1, "app"),
        text(2, "nginx:1.27"),
        text(3, "nginx"),
        text(4, "-g"),
        text(4, "daemon off;"),
        text(5, ""),  # workingDir: zero, omitempty
        msg(6, text(1, "http"), num(2, 0), num(3, 8080), text(4, "TCP"), text(5, "")),
        msg(7, text(1, "MODE"), text(2, "fast")),
        msg(7, text(1, "POD"), msg(3, msg(1, text(1, "v1"), text(2, "metadata.name")))),
        msg(
            8,  # resources: limits 1, requests 2
            entry(1, "cpu", quantity(2, "1")),
            entry(2, "cpu", quantity(2, "250m")),
            entry(2, "memory", quantity(2, "64Mi")),
        ),
        msg(9, text(1, "data"), num(2, 1), text(3, "/data")),
        liveness,
        readiness,
        text(14, "IfNotPresent"),
        msg(15, num(4, 0), num(5, 1), num(7, 0)),  # runAsUser 0, runAsNonRoot, no escalation
        num(16, 0),  # stdin: zero, omitempty
        num(18, 0),  # tty
    )


def _deployment() -> bytes:
    empty_dir = msg(1, text(1, "data"), msg(2, msg(2, text(1, ""), quantity(2, "1Gi"))))
    config_map = msg(19, msg(1, text(1, "app-config")), msg(2, text(1, "k"), text(2, "k.txt")))
    pod_spec = msg(
        2,
        empty_dir,
        msg(1, text(1, "cfg"), msg(2, config_map)),
        _container(),
        text(3, "Always"),
        num(4, 0),  # terminationGracePeriodSeconds: a pointer, so 0 is kept
        entry(7, "disk", text(2, "ssd")),
        num(11, 0),  # hostNetwork: zero, omitempty
        msg(22, text(1, "dedicated"), text(2, "Exists"), text(4, "NoSchedule"), num(5, 300)),
        num(25, -5),  # priority: a negative int32 takes ten bytes on the wire
    )
    requirement = msg(2, text(1, "tier"), text(2, "In"), text(3, "a"), text(3, "b"))
    spec = msg(
        2,
        num(1, 0),  # replicas: a pointer, so 0 is kept
        msg(2, entry(1, "app", text(2, "web")), requirement),
        msg(3, msg(1, entry(11, "app", text(2, "web"))), pod_spec),
        msg(4, text(1, "RollingUpdate"), msg(2, int_or_string(1, 0), int_or_string(2, "25%"))),
        num(5, 0),  # minReadySeconds: zero, omitempty
        num(6, 5),
        num(7, 0),  # paused
        num(9, 600),
    )
    condition = msg(
        6,
        text(1, "Available"),
        text(2, "True"),
        text(4, "MinimumReplicasAvailable"),
        text(5, "ok"),
        time(6, 1700000000),
        time(7, 1700000000, 999),
    )
    unknown = num(999, 7) + msg(998, b"\x01\x02") + _varint(997 << 3 | 5) + b"\0\0\0\0"
    metadata = _metadata("web", entry(11, "app", text(2, "web")), created=1700000000)
    return body("apps/v1", "Deployment", metadata, spec, msg(3, num(1, 3), condition), unknown)


def test_a_full_deployment_decodes_like_its_json() -> None:
    container = {
        "name": "app",
        "image": "nginx:1.27",
        "command": ["nginx"],
        "args": ["-g", "daemon off;"],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "MODE", "value": "fast"},
            {
                "name": "POD",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            },
        ],
        "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "data", "readOnly": True, "mountPath": "/data"}],
        "livenessProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 3},
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
        },
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {
            "runAsUser": 0,
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
        },
    }
    pod_spec = {
        "volumes": [
            {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
            {
                "name": "cfg",
                "configMap": {"name": "app-config", "items": [{"key": "k", "path": "k.txt"}]},
            },
        ],
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 0,
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [
            {
                "key": "dedicated",
                "operator": "Exists",
                "effect": "NoSchedule",
                "tolerationSeconds": 300,
            }
        ],
        "priority": -5,
    }
    assert decode_kubernetes_protobuf(_deployment()) == {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": "web",
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"app": "web"},
        },
        "spec": {
            "replicas": 0,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
            },
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": 3,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "lastUpdateTime": "2023-11-14T22:13:20Z",
                    "lastTransitionTime": "2023-11-14T22:13:20Z",
                    "reason": "MinimumReplicasAvailable",
                    "message": "ok",
                }
            ],
        },
    }


def test_inlined_go_structs_put_their_fields_in_the_parent() -> None:
    spec = decode_kubernetes_protobuf(_deployment())["spec"]["template"]["spec"]
    # Volume.VolumeSource, Probe.ProbeHandler and ConfigMapVolumeSource.LocalObjectReference
    # are messages of their own on the wire but inline in JSON, at the embedding's position.
    assert list(spec["volumes"][1]) == ["name", "configMap"]
    assert next(iter(spec["containers"][0]["readinessProbe"])) == "httpGet"
    assert list(spec["volumes"][1]["configMap"]) == ["name", "items"]


def test_service_target_port_may_be_a_name_or_a_number() -> None:
    ports = [
        msg(1, text(1, "web"), text(2, "TCP"), num(3, 80), int_or_string(4, "http"), num(5, 0)),
        msg(1, text(1, "alt"), text(2, "TCP"), num(3, 81), int_or_string(4, 9090), num(5, 0)),
    ]
    spec = msg(2, *ports, entry(2, "app", text(2, "web")), text(3, ""), text(4, "ClusterIP"))
    service = decode_kubernetes_protobuf(body("v1", "Service", _metadata("svc"), spec))
    assert service["spec"] == {
        "ports": [
            {"name": "web", "protocol": "TCP", "port": 80, "targetPort": "http"},
            {"name": "alt", "protocol": "TCP", "port": 81, "targetPort": 9090},
        ],
        "selector": {"app": "web"},
        "type": "ClusterIP",
    }


def test_micro_times_keep_microseconds_and_times_whole_seconds() -> None:
    lease_spec = msg(2, text(1, "node-a"), num(2, 15), time(3, 1700000000, 123456789), num(5, 0))
    lease = decode_kubernetes_protobuf(
        body("coordination.k8s.io/v1", "Lease", _metadata("leader"), lease_spec)
    )
    assert lease["spec"] == {
        "holderIdentity": "node-a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2023-11-14T22:13:20.123456Z",
        "leaseTransitions": 0,
    }
    event = decode_kubernetes_protobuf(
        body("v1", "Event", _metadata("e"), time(6, 0), time(7, -86400, 5), time(10, 0, 1000))
    )
    assert event["firstTimestamp"] == "1970-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "1969-12-31T00:00:00Z"
    assert event["eventTime"] == "1970-01-01T00:00:00.000001Z"


def test_zero_time_is_null_as_in_go_json_but_creation_time_is_left_out() -> None:
    event = decode_kubernetes_protobuf(body("v1", "Event", _metadata("e"), msg(6), msg(10)))
    assert event["firstTimestamp"] is None
    assert event["eventTime"] is None
    assert "creationTimestamp" not in event["metadata"]  # omitzero in Go's JSON tag


def _json(field: int, value: Any) -> bytes:
    return msg(field, msg(1, json.dumps(value).encode()))


def test_crd_schemas_decode_with_their_json_unions() -> None:
    # JSONSchemaProps: type 5, default 8, maximum 9 (double), minimum 11, enum 20, required 23,
    # items 24, properties 29, additionalProperties 30, preserve-unknown-fields 38,
    # validations 44 {rule 1, messageExpression 3, optionalOldSelf 6}.
    replicas = msg(2, text(5, "integer"), double(9, 10.5), double(11, 0))
    mode = msg(2, text(5, "string"), _json(8, "fast"), _json(20, "fast"), _json(20, None))
    tags = msg(2, text(5, "array"), msg(24, msg(1, text(5, "string"))))
    extra = msg(2, text(5, "object"), num(38, 1))
    rule = msg(44, text(1, "self.replicas >= 0"), text(3, "'bad'"), num(6, 0))
    spec = (
        text(5, "object")
        + text(23, "replicas")
        + entry(29, "replicas", replicas)
        + entry(29, "mode", mode)
        + entry(29, "tags", tags)
        + entry(29, "extra", extra)
        + msg(30, num(1, 0))
        + rule
    )
    version = msg(
        7,
        text(1, "v1"),
        num(2, 0),  # served: false is meaningful (no omitempty)
        num(3, 1),
        msg(4, msg(1, text(5, "object"), entry(29, "spec", msg(2, spec)))),
        msg(5, msg(1), msg(2, text(1, ".spec.replicas"), text(2, ".status.replicas"))),
        msg(9, text(1, ".spec.mode")),
    )
    names = msg(3, text(1, "widgets"), text(2, ""), text(4, "Widget"), text(5, ""))
    crd = decode_kubernetes_protobuf(
        body(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            _metadata("widgets.example.com"),
            msg(2, text(1, "example.com"), names, text(4, "Namespaced"), version, num(10, 0)),
        )
    )
    [decoded_version] = crd["spec"]["versions"]
    assert crd["spec"]["names"] == {"plural": "widgets", "kind": "Widget"}
    assert decoded_version["served"] is False and decoded_version["storage"] is True
    assert decoded_version["subresources"] == {
        "status": {},
        "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"},
    }
    assert decoded_version["selectableFields"] == [{"jsonPath": ".spec.mode"}]
    schema = decoded_version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert schema == {
        "type": "object",
        "required": ["replicas"],
        "properties": {
            "replicas": {"type": "integer", "maximum": 10.5, "minimum": 0},
            "mode": {"type": "string", "default": "fast", "enum": ["fast", None]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "additionalProperties": False,
        "x-kubernetes-validations": [
            {"rule": "self.replicas >= 0", "messageExpression": "'bad'", "optionalOldSelf": False}
        ],
    }


@pytest.mark.parametrize(
    ("api_version", "kind", "raw", "expected"),
    [
        (
            "v1",
            "Binding",
            msg(2, text(1, "Node"), text(2, ""), text(3, "node-1")),
            {"kind": "Node", "name": "node-1"},
        ),
        ("autoscaling/v1", "Scale", msg(2, num(1, 3)), {"replicas": 3}),
        (
            "policy/v1",
            "Eviction",
            msg(2, num(1, 0), text(4, "Foreground")),
            {"gracePeriodSeconds": 0, "propagationPolicy": "Foreground"},
        ),
    ],
)
def test_subresource_bodies_decode(api_version: str, kind: str, raw: bytes, expected: Any) -> None:
    decoded = decode_kubernetes_protobuf(body(api_version, kind, _metadata("x"), raw))
    assert list(decoded.values())[-1] == expected


def test_packed_repeated_numbers_are_accepted() -> None:
    packed = msg(4, _varint(1000) + _varint(2000))  # PodSecurityContext.supplementalGroups
    pod = decode_kubernetes_protobuf(body("v1", "Pod", _metadata("p"), msg(2, msg(14, packed))))
    assert pod["spec"]["securityContext"]["supplementalGroups"] == [1000, 2000]


def test_a_map_entry_without_a_value_holds_the_zero_value() -> None:
    cm = decode_kubernetes_protobuf(body("v1", "ConfigMap", _metadata("c"), msg(2, text(1, "k"))))
    assert cm["data"] == {"k": ""}


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "expected prefix [107 56 115 0]"),
        (b"garbage!", "does not appear to be a protobuf message"),
        (b'{"kind": "Namespace"}', "does not appear to be a protobuf message"),
        (bytes.fromhex(CAPTURED["create namespace x"][0])[4:], "expected prefix"),
        (bytes.fromhex(CAPTURED["create namespace x"][0])[:30], "unexpected EOF"),
        (b"k8s\x00\x0a\x05\x0a\x01v\x12\x00\xff", "unexpected EOF"),
        (b"k8s\x00\x0f", "illegal wire type 7"),
        (b"k8s\x00" + b"\x08" + b"\xff" * 11, "integer overflow"),
        (body("v1", "Namespace", num(1, 5)), "wrong wire type 0 for field metadata (1)"),
        (body("v1", "Namespace", msg(1, num(1, 5))), "wrong wire type 0 for field name (1)"),
        (body("v1", "Namespace") + msg(3, b"gzip"), "unsupported content encoding 'gzip'"),
        (
            body("v1", "Pod", msg(2, msg(2, text(1, "c"), msg(8, entry(1, "cpu", num(2, 1)))))),
            "wrong wire type",
        ),
    ],
)
def test_undecodable_bodies_raise_a_value_error_that_says_why(raw: bytes, message: str) -> None:
    with pytest.raises(
        ProtobufDecodeError,
        match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)"),
    ) as caught:
        decode_kubernetes_protobuf(raw)
    assert isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, UnsupportedKindError)


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        ("v1", "Foo", 'no kind "Foo" is registered for version "v1"'),
        (
            "apps/v1beta1",
            "Deployment",
            'no kind "Deployment" is registered for version "apps/v1beta1"',
        ),
        ("example.com/v1", "Widget", 'no kind "Widget" is registered for version "example.com/v1"'),
        ("v1", "", "names no kind"),
        ("", "Pod", "names no apiVersion"),
    ],
)
def test_unknown_kinds_raise_unsupported_kind(api_version: str, kind: str, message: str) -> None:
    with pytest.raises(UnsupportedKindError, match=message):
        decode_kubernetes_protobuf(body(api_version, kind, _metadata("x")))


def test_absurdly_deep_nesting_is_refused() -> None:
    schema = text(5, "object")
    for _ in range(150):
        schema = msg(28, schema)  # JSONSchemaProps.not holds another JSONSchemaProps
    version = msg(7, msg(4, msg(1, schema)))
    crd = body("apiextensions.k8s.io/v1", "CustomResourceDefinition", msg(2, version))
    with pytest.raises(ProtobufDecodeError, match="nested more than 100 deep"):
        decode_kubernetes_protobuf(crd)


# -- the layout tables ---------------------------------------------------------------------------

_OPENAPI_PACKAGES = {
    "core": "io.k8s.api.core.v1",
    "apps": "io.k8s.api.apps.v1",
    "networking": "io.k8s.api.networking.v1",
    "discovery": "io.k8s.api.discovery.v1",
    "coordination": "io.k8s.api.coordination.v1",
    "autoscaling": "io.k8s.api.autoscaling.v1",
    "policy": "io.k8s.api.policy.v1",
    "meta": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "apiextensions": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
}
# Server-set CRD status fields whose protobuf numbers the hand-kept CRD table does not know.
_KNOWN_MISSING = {
    "apiextensions.CustomResourceDefinitionStatus": {"observedGeneration"},
    "apiextensions.CustomResourceDefinitionCondition": {"observedGeneration"},
}


def _json_names(message: str) -> set[str]:
    names: set[str] = set()
    for field in k8sproto.layouts()[message]:
        if field.json_name == "^":
            assert field.message is not None
            names |= _json_names(field.message)
        else:
            names.add(field.json_name)
    return names


def test_every_object_layout_has_exactly_the_fields_of_the_kubernetes_1_37_schema() -> None:
    defs = definitions()
    checked = 0
    for message in k8sproto.layouts():
        group, _, name = message.partition(".")
        definition = defs.get(f"{_OPENAPI_PACKAGES.get(group, '?')}.{name}")
        if definition is None or "properties" not in definition:
            continue  # inline-only structs, and types whose JSON is not an object
        expected = set(definition["properties"]) - _KNOWN_MISSING.get(message, set())
        if message in _all_kind_messages() | {"meta.DeleteOptions"}:
            expected -= {"apiVersion", "kind"}  # Go's inline TypeMeta: not on the wire
        assert _json_names(message) == expected, message
        checked += 1
    assert checked > 200


def _all_kind_messages() -> set[str]:
    from kfed_local.sim.k8sproto_crd import CRD_KINDS
    from kfed_local.sim.k8sproto_layouts import KINDS

    return set(KINDS.values()) | set(CRD_KINDS.values())


def test_field_numbers_are_unique_within_each_message() -> None:
    for message, fields in k8sproto.layouts().items():
        numbers = [field.number for field in fields]
        assert len(numbers) == len(set(numbers)), message


def test_every_kind_the_simulator_serves_has_a_protobuf_layout() -> None:
    served = {(t.api_version, t.kind) for t in builtin_types()}
    assert served <= k8sproto.decodable_kinds()


def test_the_content_type_constant_names_kubernetes_protobuf() -> None:
    assert PROTOBUF_CONTENT_TYPE == "application/vnd.kubernetes.protobuf"


# -- properties ----------------------------------------------------------------------------------


def _outcome(raw: bytes) -> dict[str, Any] | ProtobufDecodeError:
    try:
        return decode_kubernetes_protobuf(raw)
    except ProtobufDecodeError as exc:
        return exc


@given(st.binary(max_size=200))
def test_arbitrary_bytes_after_the_magic_never_crash_the_decoder(tail: bytes) -> None:
    assert isinstance(_outcome(b"k8s\x00" + tail), dict | ProtobufDecodeError)


@given(st.binary(max_size=120))
def test_arbitrary_object_bytes_never_crash_the_decoder(raw: bytes) -> None:
    # A second field 2 (raw) replaces the empty one: the last value of a field wins.
    outcome = _outcome(body("apps/v1", "Deployment") + msg(2, raw))
    assert isinstance(outcome, ProtobufDecodeError) or outcome["kind"] == "Deployment"


@given(st.integers(min_value=0, max_value=len(_deployment())))
def test_every_truncation_of_a_body_decodes_or_says_why(cut: int) -> None:
    outcome = _outcome(_deployment()[:cut])
    # A cut inside a field is an EOF; a cut right after the magic leaves an envelope that names
    # nothing; a cut inside the magic is a wrong prefix. Never a crash, never a silent object.
    reasons = ("EOF", "prefix", "names no kind")
    assert isinstance(outcome, dict) or any(reason in str(outcome) for reason in reasons)


@given(
    st.dictionaries(st.text(), st.text(), max_size=5),
    st.dictionaries(st.text(), st.binary(), max_size=5),
)
def test_config_map_data_round_trips(data: dict[str, str], binary: dict[str, bytes]) -> None:
    raw = b"".join(entry(2, k, text(2, v)) for k, v in data.items())
    raw += b"".join(entry(3, k, msg(2, v)) for k, v in binary.items())
    decoded = decode_kubernetes_protobuf(body("v1", "ConfigMap", _metadata("c"), raw))
    assert decoded.get("data", {}) == data
    assert decoded.get("binaryData", {}) == {
        k: base64.b64encode(v).decode() for k, v in binary.items()
    }


@given(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_signed_integers_round_trip(small: int, large: int) -> None:
    # PodSpec.priority is an int32, activeDeadlineSeconds an int64 (both pointers: zero kept).
    pod = decode_kubernetes_protobuf(
        body("v1", "Pod", _metadata("p"), msg(2, num(25, small), num(5, large)))
    )
    assert pod["spec"] == {"activeDeadlineSeconds": large, "priority": small}

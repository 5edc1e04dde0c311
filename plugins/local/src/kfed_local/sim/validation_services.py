"""Validation rules of Services, ConfigMaps, Secrets, Events and CRDs for the simulated API server.

Layer: pure, a helper of :mod:`kfed_local.sim.validation` (its only caller). Like
:mod:`~kfed_local.sim.validation_kinds`, each rule mirrors kube-apiserver 1.37's Go validation
for one kind (paths, values, details and order) and reads plain dicts defensively, never
mutating them. Update rules here (immutable data, cluster IPs, Secret type) are the ones the
real server reports before the object's own errors.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from kfed_local.sim.errors import FieldError
from kfed_local.sim.names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
)
from kfed_local.sim.validation_common import (
    IMMUTABLE,
    MAX_SECRET_SIZE,
    PROTOCOLS,
    GoText,
    Rule,
    UpdateRule,
    duplicate,
    forbidden,
    go_json,
    integer,
    invalid,
    labels_errors,
    mapping,
    not_supported,
    required,
    sequence,
    text,
    too_long,
)

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_IMMUTABLE_SET = "field is immutable when `immutable` is set"

# -- services -----------------------------------------------------------------------------------


def _service_port(
    port: Mapping[str, Any], at: str, require_name: bool, names: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    name = text(port.get("name"))
    if require_name and not name:
        errors.append(required(f"{at}.name"))
    elif name:
        errors.extend(invalid(f"{at}.name", name, msg) for msg in is_dns1123_label(name))
        if name in names:
            errors.append(duplicate(f"{at}.name", name))
        names.add(name)
    number = integer(port.get("port")) or 0
    errors.extend(invalid(f"{at}.port", number, msg) for msg in is_valid_port_num(number))
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        errors.append(not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, str):
        errors.extend(
            invalid(f"{at}.targetPort", target, msg) for msg in is_valid_port_name(target)
        )
    elif integer(target) is not None and integer(target) != 0:
        value = integer(target) or 0
        errors.extend(invalid(f"{at}.targetPort", value, msg) for msg in is_valid_port_num(value))
    return errors


def _service(service: Mapping[str, Any]) -> list[FieldError]:
    spec = mapping(service.get("spec"))
    kind = spec.get("type") or "ClusterIP"
    headless = spec.get("clusterIP") == "None"
    ports = [mapping(p) for p in sequence(spec.get("ports"))]
    errors: list[FieldError] = []
    if not ports and not headless and kind != "ExternalName":
        errors.append(required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        errors.extend(_service_port(port, f"spec.ports[{i}]", len(ports) > 1, names))
    errors.extend(labels_errors(spec.get("selector"), "spec.selector"))
    if kind not in _SERVICE_TYPES:
        errors.append(not_supported("spec.type", kind, _SERVICE_TYPES))
    if kind == "ExternalName":
        if sequence(spec.get("clusterIPs")) or text(spec.get("clusterIP")):
            errors.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        cname = text(spec.get("externalName")).removesuffix(".")
        if cname:
            errors.extend(
                invalid("spec.externalName", cname, m) for m in is_dns1123_subdomain(cname)
            )
        else:
            errors.append(required("spec.externalName"))
    if kind == "ClusterIP":
        errors.extend(
            forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
            for i, port in enumerate(ports)
            if integer(port.get("nodePort"))
        )
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        protocol, number = text(port.get("protocol", "TCP")), integer(port.get("port")) or 0
        if (protocol, number) in seen:
            # Go shows the internal ServicePort it built as the key, zero fields and all.
            key = {
                "Name": "",
                "Protocol": protocol,
                "AppProtocol": None,
                "Port": number,
                "TargetPort": 0,
                "NodePort": 0,
            }
            errors.append(duplicate(f"spec.ports[{i}]", GoText(go_json(key))))
        seen.add((protocol, number))
    return errors


def _cluster_ips(spec: Mapping[str, Any]) -> list[str]:
    ips = [text(ip) for ip in sequence(spec.get("clusterIPs"))]
    single = text(spec.get("clusterIP"))
    return ips or ([single] if single else [])


def _service_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    new_spec, old_spec = mapping(new.get("spec")), mapping(old.get("spec"))
    if "ExternalName" in (new_spec.get("type"), old_spec.get("type")):
        return []
    new_ips, old_ips = _cluster_ips(new_spec), _cluster_ips(old_spec)
    if new_ips and old_ips and new_ips[0] != old_ips[0]:
        return [invalid("spec.clusterIPs[0]", new_ips, "may not change once set")]
    return []


# -- configmaps and secrets ---------------------------------------------------------------------


def _decoded_length(value: Any) -> int:
    try:
        return len(base64.b64decode(text(value), validate=False))
    except (binascii.Error, ValueError):
        return len(text(value))


def _config_map(config_map: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    data, binary = mapping(config_map.get("data")), mapping(config_map.get("binaryData"))
    total = 0
    for key, value in sorted(data.items()):
        errors.extend(invalid(f"data[{key}]", key, msg) for msg in is_config_map_key(key))
        if key in binary:
            errors.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(text(value).encode())
    for key, value in sorted(binary.items()):
        errors.extend(invalid(f"binaryData[{key}]", key, msg) for msg in is_config_map_key(key))
        total += _decoded_length(value)
    if total > MAX_SECRET_SIZE:
        # The error is about the whole object: Go's empty path prints as "[]".
        errors.append(too_long("[]", MAX_SECRET_SIZE))
    return errors


_SECRET_REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def _secret(secret: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    data = mapping(secret.get("data"))
    total = 0
    for key, value in sorted(data.items()):
        errors.extend(invalid(f"data[{key}]", key, msg) for msg in is_config_map_key(key))
        total += _decoded_length(value)
    if total > MAX_SECRET_SIZE:
        errors.append(too_long("data", MAX_SECRET_SIZE))
    kind = secret.get("type")
    if kind == "kubernetes.io/service-account-token":
        annotations = mapping(mapping(secret.get("metadata")).get("annotations"))
        if not text(annotations.get("kubernetes.io/service-account.name")):
            errors.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errors.extend([required("data[username]"), required("data[password]")])
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errors.append(required("data[ssh-privatekey]"))
    elif isinstance(kind, str):
        errors.extend(
            required(f"data[{key}]")
            for key in _SECRET_REQUIRED_KEYS.get(kind, ())
            if key not in data
        )
    return errors


def _immutable_data(
    new: Mapping[str, Any], old: Mapping[str, Any], keys: tuple[str, ...]
) -> list[FieldError]:
    if old.get("immutable") is not True:
        return []
    errors: list[FieldError] = []
    if new.get("immutable") is not True:
        errors.append(forbidden("immutable", _IMMUTABLE_SET))
    errors.extend(
        forbidden(key, _IMMUTABLE_SET)
        for key in keys
        if dict(mapping(new.get(key))) != dict(mapping(old.get(key)))
    )
    return errors


def _config_map_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _immutable_data(new, old, ("data", "binaryData"))


def _secret_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if new.get("type") != old.get("type"):
        errors.append(invalid("type", text(new.get("type")), IMMUTABLE))
    errors.extend(_immutable_data(new, old, ("data",)))
    return errors


# -- events and CRDs ----------------------------------------------------------------------------


def _event(event: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    namespace = text(mapping(event.get("metadata")).get("namespace"))
    involved = text(mapping(event.get("involvedObject")).get("namespace"))
    mismatch = invalid("involvedObject.namespace", involved, "does not match event.namespace")
    if not event.get("eventTime"):
        if (not involved and namespace not in ("", "default")) or (
            involved and namespace != involved
        ):
            errors.append(mismatch)
        return errors
    if not involved and namespace not in ("default", "kube-system"):
        errors.append(mismatch)
    component = text(event.get("reportingComponent"))
    if not component:
        errors.append(required("reportingComponent"))
    errors.extend(invalid("reportingComponent", component, m) for m in is_qualified_name(component))
    for name in ("reportingInstance", "action", "reason"):
        if not text(event.get(name)):
            errors.append(required(name))
    return errors


def crd_name_errors(crd: Mapping[str, Any]) -> list[FieldError]:
    """A CRD must be named ``<plural>.<group>``."""
    spec = mapping(crd.get("spec"))
    name = text(mapping(crd.get("metadata")).get("name"))
    wanted = f"{text(mapping(spec.get('names')).get('plural'))}.{text(spec.get('group'))}"
    if not name or name == wanted:
        return []
    return [invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]


KIND_RULES: Mapping[tuple[str, str], Rule] = {
    ("", "Service"): _service,
    ("", "ConfigMap"): _config_map,
    ("", "Secret"): _secret,
    ("", "Event"): _event,
}
"""Create-and-update rules of the kinds in this module, per (group, kind)."""

UPDATE_RULES_FIRST: Mapping[tuple[str, str], UpdateRule] = {
    ("", "Service"): _service_update,
    ("", "ConfigMap"): _config_map_update,
    ("", "Secret"): _secret_update,
}
"""Update rules kube-apiserver reports before the object's own errors."""

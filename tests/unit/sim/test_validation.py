"""Decoding checks and semantic validation of the simulated API server, message for message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kfed_local.sim.errors import invalid
from kfed_local.sim.resources import ResourceType, builtin_types, types_from_crd
from kfed_local.sim.validation import (
    QUANTITY_FORMAT_ERROR,
    QUANTITY_SUFFIX_ERROR,
    base64_error_offset,
    cannot_handle_message,
    check_structure,
    validate_object,
)

TYPES = {t.kind: t for t in builtin_types()}


def _type(kind: str) -> ResourceType:
    return TYPES[kind]


def _messages(kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return [e.message() for e in validate_object(_type(kind), obj, old=old)]


def _deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    base["spec"].update(spec)
    return base


def _service(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    body.update(spec)
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": body}


def _check(kind: str, obj: dict[str, Any], mode: Any = "Strict") -> Any:
    schema = _type(kind).schema
    assert schema is not None
    return check_structure(obj, schema, mode)


# -- decoding -----------------------------------------------------------------------------------


def test_strict_mode_reports_every_unknown_field_with_list_indices() -> None:
    obj = _deployment(replicass=3)
    obj["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    result = _check("Deployment", obj)
    # Reported in document order: the test helper adds "replicass" after "template".
    assert result.render_errors() == (
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagee", '
        'unknown field "spec.replicass"'
    )
    assert result.warnings == ()


def test_warn_mode_prunes_unknown_fields_and_warns_without_touching_the_input() -> None:
    obj = _deployment(replicass=3)
    before = copy.deepcopy(obj)
    result = _check("Deployment", obj, "Warn")
    assert result.warnings == ('unknown field "spec.replicass"',)
    assert result.errors == ()
    assert "replicass" not in result.obj["spec"]
    assert obj == before


def test_ignore_mode_prunes_silently() -> None:
    result = _check("Deployment", _deployment(replicass=3), "Ignore")
    assert result.warnings == ()
    assert result.errors == ()
    assert result.unknown_fields == ("spec.replicass",)
    assert "replicass" not in result.obj["spec"]


def test_string_for_an_integer_is_a_go_decoding_error() -> None:
    result = _check("Deployment", _deployment(replicas="3"), "Ignore")
    assert result.render_errors() == (
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type "
        "int32"
    )


def test_type_errors_name_the_innermost_struct_and_the_path_without_indices() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "PORT", "value": 8080}]
    result = _check("Deployment", obj)
    assert result.problems[0].path == "spec.template.spec.containers[0].env[0].value"
    assert result.render_errors() == (
        "json: cannot unmarshal number into Go struct field "
        "EnvVar.spec.template.spec.containers.env.value of type string"
    )


def test_type_error_wins_over_unknown_fields() -> None:
    result = _check("Deployment", _deployment(replicas="3", replicass=1))
    assert result.render_errors().startswith("json: cannot unmarshal string")
    assert len(result.errors) == 2


def test_integers_may_not_have_a_fraction_but_integral_floats_pass() -> None:
    assert _check("Deployment", _deployment(replicas=3.0)).obj["spec"]["replicas"] == 3
    assert _check("Deployment", _deployment(replicas=1.5)).render_errors() == (
        "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of "
        "type int32"
    )


def test_int32_overflow_is_a_decoding_error() -> None:
    message = _check("Deployment", _deployment(replicas=2**31)).render_errors()
    assert message.startswith(f"json: cannot unmarshal number {2**31} into Go struct field")


def test_object_where_a_list_is_required_names_the_go_slice_type() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": {"name": "c"}}}
    assert _check("Pod", pod).render_errors() == (
        "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type "
        "[]v1.Container"
    )


@pytest.mark.parametrize("target", [8080, "http"])
def test_int_or_string_accepts_integers_and_strings(target: Any) -> None:
    result = _check("Service", _service(ports=[{"port": 80, "targetPort": target}]))
    assert result.errors == ()


def test_int_or_string_refuses_a_boolean() -> None:
    result = _check("Service", _service(ports=[{"port": 80, "targetPort": True}]))
    assert result.render_errors() == (
        "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of "
        "type int32"
    )


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        ("100m", None),
        ("1.5Gi", None),
        (2, None),
        (0.5, None),
        ("1e3", None),
        ("abc", QUANTITY_FORMAT_ERROR),
        ("1Gb", QUANTITY_FORMAT_ERROR),
        ("1kk", QUANTITY_SUFFIX_ERROR),
        (True, QUANTITY_FORMAT_ERROR),
    ],
)
def test_quantities_accept_strings_and_numbers(quantity: Any, problem: str | None) -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": quantity}}}]},
    }
    messages = [p.message for p in _check("Pod", pod).problems]
    assert messages == ([] if problem is None else [problem])


def test_null_for_an_optional_field_is_treated_as_absent() -> None:
    obj = _deployment(replicas=None)
    obj["metadata"]["creationTimestamp"] = None
    result = _check("Deployment", obj)
    assert result.errors == ()
    assert "replicas" not in result.obj["spec"]
    assert "creationTimestamp" not in result.obj["metadata"]


def test_null_in_a_map_of_strings_decodes_to_the_empty_string() -> None:
    obj = _deployment()
    obj["metadata"]["labels"] = {"app": None}
    assert _check("Deployment", obj).obj["metadata"]["labels"] == {"app": ""}


def test_fields_of_any_type_are_kept_whole() -> None:
    managed = [{"manager": "kubectl", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {".": {}}}}]
    obj = _deployment()
    obj["metadata"]["managedFields"] = managed
    assert _check("Deployment", obj).obj["metadata"]["managedFields"] == managed


def test_secret_data_must_be_base64() -> None:
    secret = {"metadata": {"name": "s"}, "data": {"password": "hello"}}
    assert _check("Secret", secret).render_errors() == "illegal base64 data at input byte 4"
    assert base64_error_offset("aGVsbG8=") is None
    assert base64_error_offset("aGVsbG8") == 4
    assert base64_error_offset("a=bc") == 1


def test_cannot_handle_message_wraps_the_detail_like_kube_apiserver() -> None:
    assert cannot_handle_message("Deployment", "v1", "strict decoding error: x") == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: x'
    )


# -- custom resources ---------------------------------------------------------------------------

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["cronSpec"],
                                "properties": {
                                    "cronSpec": {"type": "string"},
                                    "replicas": {"type": "integer"},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "note": {"type": "string", "nullable": True},
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}
CRON_TAB = types_from_crd(CRD)[0]


def _cron_tab(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "c", "namespace": "default"},
        "spec": {"cronSpec": "* * * * *", **spec},
    }


def test_custom_resources_are_pruned_but_keep_preserved_and_nullable_fields() -> None:
    assert CRON_TAB.schema is not None
    result = check_structure(
        _cron_tab(bogus=1, note=None, replicas=None, extra={"any": {"thing": 1}}),
        CRON_TAB.schema,
        "Warn",
    )
    assert result.warnings == ('unknown field "spec.bogus"',)
    assert result.obj["spec"] == {
        "cronSpec": "* * * * *",
        "note": None,
        "extra": {"any": {"thing": 1}},
    }


def test_custom_resource_type_errors_are_validation_errors() -> None:
    assert CRON_TAB.schema is not None
    obj = _cron_tab(replicas="2")
    assert check_structure(obj, CRON_TAB.schema, "Strict").errors == ()
    assert [e.message() for e in validate_object(CRON_TAB, obj)] == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: '
        '"string"'
    ]


def test_custom_resource_required_and_enum_follow_the_crd_schema() -> None:
    obj = _cron_tab(color="green")
    del obj["spec"]["cronSpec"]
    assert [e.message() for e in validate_object(CRON_TAB, obj)] == [
        "spec.cronSpec: Required value",
        'spec.color: Unsupported value: "green": supported values: "red", "blue"',
    ]


def test_crd_name_must_be_plural_dot_group() -> None:
    crd = copy.deepcopy(CRD)
    crd["metadata"]["name"] = "crontabs.example.com"
    assert _messages("CustomResourceDefinition", crd) == [
        'metadata.name: Invalid value: "crontabs.example.com": must be '
        'spec.names.plural+"."+spec.group'
    ]


# -- metadata -----------------------------------------------------------------------------------


def test_a_valid_deployment_has_no_errors() -> None:
    assert _messages("Deployment", _deployment()) == []


def test_name_is_required_unless_generate_name_is_given() -> None:
    obj = _deployment()
    del obj["metadata"]["name"]
    assert _messages("Deployment", obj) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    obj["metadata"]["generateName"] = "web-"
    assert _messages("Deployment", obj) == []


def test_invalid_name_uses_the_resource_rule() -> None:
    obj = _deployment()
    obj["metadata"]["name"] = "Web_1"
    assert _messages("Deployment", obj) == [
        'metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of '
        "lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]


def test_namespace_names_are_dns_labels_and_carry_no_namespace() -> None:
    namespace = {"metadata": {"name": "team.a", "namespace": "x"}}
    assert _messages("Namespace", namespace) == [
        'metadata.name: Invalid value: "team.a": must not contain dots',
        "metadata.namespace: Forbidden: not allowed on this type",
    ]


def test_namespaced_objects_need_a_namespace() -> None:
    obj = _deployment()
    del obj["metadata"]["namespace"]
    assert _messages("Deployment", obj) == ["metadata.namespace: Required value"]


def test_service_names_are_dns1035_labels() -> None:
    service = _service()
    service["metadata"]["name"] = "1web"
    assert _messages("Service", service)[0].startswith(
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of'
    )


def test_label_keys_and_values_are_checked_under_metadata_labels() -> None:
    obj = _deployment()
    obj["metadata"]["labels"] = {"bad key": "ok", "app": "-x"}
    messages = _messages("Deployment", obj)
    assert messages[0].startswith('metadata.labels: Invalid value: "-x": a valid label must be')
    assert messages[1].startswith('metadata.labels: Invalid value: "bad key": name part must')


def test_annotations_are_limited_to_256_kib_in_total() -> None:
    obj = _deployment()
    obj["metadata"]["annotations"] = {"a": "x" * 200_000, "b": "y" * 70_000}
    assert _messages("Deployment", obj) == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    ]


def test_owner_references_need_their_identity() -> None:
    obj = _deployment()
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "X", "name": "x"}]
    assert _messages("Deployment", obj) == [
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty'
    ]


def test_core_types_want_unqualified_finalizers_to_be_standard() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d", "finalizers": ["kubernetes", "mine"]}}
    assert _messages("ConfigMap", obj) == [
        'metadata.finalizers[1]: Invalid value: "mine": name is neither a standard finalizer '
        "name nor is it fully qualified"
    ]


# -- pods and workloads -------------------------------------------------------------------------


def test_selector_must_match_template_labels_with_the_real_message() -> None:
    obj = _deployment()
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "x"}
    assert _messages("Deployment", obj) == [
        'spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match '
        "template `labels`"
    ]


def test_deployment_without_spec_reports_what_kube_apiserver_reports() -> None:
    obj = _deployment()
    del obj["spec"]
    assert _messages("Deployment", obj) == [
        "spec.selector: Required value",
        "spec.template.metadata.labels: Invalid value: null: `selector` does not match template "
        "`labels`",
        "spec.template.spec.containers: Required value",
    ]


def test_negative_replicas_are_invalid() -> None:
    assert _messages("ReplicaSet", _deployment(replicas=-1)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ]


def test_empty_selector_is_invalid_for_workloads() -> None:
    assert _messages("Deployment", _deployment(selector={})) == [
        "spec.selector: Invalid value: {}: empty selector is invalid for deployment"
    ]


def test_broken_selector_expression_also_makes_the_selector_invalid() -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "In"}]}
    assert _messages("Deployment", _deployment(selector=selector)) == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'",
        'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"In"}]}: '
        "invalid label selector",
    ]


def test_container_names_images_and_ports_are_checked() -> None:
    containers = [
        {"name": "Web"},
        {"name": "db", "image": "pg", "ports": [{"containerPort": 70000, "protocol": "HTTP"}]},
        {"name": "db", "image": "pg"},
    ]
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"] = containers
    messages = _messages("Deployment", obj)
    prefix = "spec.template.spec.containers"
    assert messages[0].startswith(f'{prefix}[0].name: Invalid value: "Web": a lowercase RFC 1123')
    assert messages[1:] == [
        f"{prefix}[0].image: Required value",
        f"{prefix}[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, "
        "inclusive",
        f'{prefix}[1].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", '
        '"TCP", "UDP"',
        f'{prefix}[2].name: Duplicate value: "db"',
    ]


def test_a_container_without_name_is_reported_once() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"] = [{"image": "nginx"}]
    assert _messages("Deployment", obj) == ["spec.template.spec.containers[0].name: Required value"]


def test_workload_templates_must_restart_always() -> None:
    obj = _deployment()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert _messages("Deployment", obj) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    ]


def test_pods_need_containers() -> None:
    pod = {"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": []}}
    assert _messages("Pod", pod) == ["spec.containers: Required value"]


def test_rolling_update_may_not_have_zero_surge_and_zero_unavailable() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}
    assert _messages("Deployment", _deployment(strategy=strategy)) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when '
        "`maxSurge` is 0"
    ]


# -- services -----------------------------------------------------------------------------------


def test_a_service_needs_ports_unless_headless_or_external_name() -> None:
    assert _messages("Service", _service(ports=[])) == ["spec.ports: Required value"]
    assert _messages("Service", _service(ports=[], clusterIP="None")) == []
    assert _messages("Service", _service(ports=[], type="ExternalName")) == [
        "spec.externalName: Required value"
    ]


def test_service_ports_are_checked_like_kube_apiserver() -> None:
    ports = [{"name": "http", "port": 80}, {"port": 0}, {"name": "dup", "port": 80}]
    assert _messages("Service", _service(ports=ports)) == [
        "spec.ports[1].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[2]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,'
        '"Port":80,"TargetPort":0,"NodePort":0}',
    ]


def test_service_type_is_one_of_the_four() -> None:
    assert _messages("Service", _service(type="Cluster")) == [
        'spec.type: Unsupported value: "Cluster": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"'
    ]


def test_node_ports_are_forbidden_on_cluster_ip_services() -> None:
    ports = [{"port": 80, "nodePort": 30080}]
    assert _messages("Service", _service(ports=ports)) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    ]
    assert _messages("Service", _service(ports=ports, type="NodePort")) == []


# -- configmaps and secrets ---------------------------------------------------------------------


def test_config_map_keys_are_checked_by_path() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a b": "x", "ok.txt": "y"}}
    assert _messages("ConfigMap", obj)[0].startswith(
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric'
    )


def test_config_maps_are_limited_to_one_mib() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "x" * (1024 * 1024 + 1)}}
    assert _messages("ConfigMap", obj) == ["[]: Too long: may not be more than 1048576 bytes"]


def test_tls_secrets_need_a_certificate_and_a_key() -> None:
    obj = {"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/tls", "data": {}}
    assert _messages("Secret", obj) == [
        "data[tls.crt]: Required value",
        "data[tls.key]: Required value",
    ]


# -- updates ------------------------------------------------------------------------------------


def test_workload_selector_is_immutable() -> None:
    old = _deployment()
    new = _deployment(selector={"matchLabels": {"app": "web", "tier": "fe"}})
    new["spec"]["template"]["metadata"]["labels"] = {"app": "web", "tier": "fe"}
    assert _messages("Deployment", new, old) == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"fe"}}: field is '
        "immutable"
    ]


def test_an_equal_selector_with_empty_parts_is_not_a_change() -> None:
    old = _deployment()
    new = _deployment(selector={"matchLabels": {"app": "web"}, "matchExpressions": []})
    assert _messages("Deployment", new, old) == []


def test_service_cluster_ip_may_not_change_once_set() -> None:
    old = _service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"])
    new = _service(clusterIP="10.0.0.2", clusterIPs=["10.0.0.2"])
    assert _messages("Service", new, old) == [
        'spec.clusterIPs[0]: Invalid value: ["10.0.0.2"]: may not change once set'
    ]


def test_immutable_config_map_data_cannot_change() -> None:
    old = {"metadata": {"name": "c", "namespace": "d"}, "immutable": True, "data": {"a": "1"}}
    new = {**old, "data": {"a": "2"}}
    assert _messages("ConfigMap", new, old) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    assert _messages("ConfigMap", {**old, "immutable": False}, old) == [
        "immutable: Forbidden: field is immutable when `immutable` is set"
    ]


def test_secret_type_is_immutable() -> None:
    old = {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"}
    new = {**old, "type": "example.com/other"}
    assert _messages("Secret", new, old) == [
        'type: Invalid value: "example.com/other": field is immutable'
    ]


def test_name_and_namespace_cannot_change() -> None:
    old = _deployment()
    new = _deployment()
    new["metadata"]["name"] = "web2"
    assert _messages("Deployment", new, old) == [
        'metadata.name: Invalid value: "web2": field is immutable'
    ]


def test_errors_render_as_one_invalid_status() -> None:
    obj = _deployment(replicas=-1)
    error = invalid("Deployment", "apps", "web", validate_object(_type("Deployment"), obj))
    assert error.code == 422
    assert error.message == (
        'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater '
        "than or equal to 0"
    )


def test_validation_never_mutates_the_object() -> None:
    obj = _deployment(selector={})
    before = copy.deepcopy(obj)
    validate_object(_type("Deployment"), obj, old=copy.deepcopy(obj))
    assert obj == before

"""Tests for kfed_local.sim.defaults: the fields kube-apiserver 1.37 fills in on create/update."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_local.sim.defaults import apply_defaults
from kfed_local.sim.defaults_pod import image_tag

SEED_RS = Path("/work/shared/seed/manifests/replicasets/nginx-rs.yaml")
DIGEST = "sha256:" + "a" * 64


def pod(spec: dict[str, Any], **kwargs: bool) -> dict[str, Any]:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    return apply_defaults("", "v1", "Pod", obj, **kwargs)


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "c", "image": "nginx:1.25", **fields}


def pod_container(**fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = pod({"containers": [container(**fields)]})["spec"]["containers"][0]
    return result


def deployment(spec: dict[str, Any]) -> dict[str, Any]:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}
    return apply_defaults("apps", "v1", "Deployment", obj)


def template(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec},
    }


def service(spec: dict[str, Any]) -> dict[str, Any]:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": spec}
    return apply_defaults("", "v1", "Service", obj)


# -- pod specs -----------------------------------------------------------------------------------


def test_pod_spec_gets_the_static_defaults() -> None:
    spec = pod({"containers": [container()]})["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["securityContext"] == {}
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["enableServiceLinks"] is True


def test_pod_spec_keeps_user_values_including_zero_grace_period() -> None:
    spec = pod(
        {
            "containers": [container()],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "dnsPolicy": "Default",
            "securityContext": {"runAsUser": 1000},
            "schedulerName": "mine",
            "enableServiceLinks": False,
        }
    )["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["terminationGracePeriodSeconds"] == 0
    assert spec["dnsPolicy"] == "Default"
    assert spec["securityContext"] == {"runAsUser": 1000}
    assert spec["schedulerName"] == "mine"
    assert spec["enableServiceLinks"] is False


def test_empty_string_restart_policy_is_defaulted_like_a_go_value_field() -> None:
    assert pod({"containers": [container()], "restartPolicy": ""})["spec"]["restartPolicy"] == (
        "Always"
    )


def test_deployment_template_gets_pod_spec_defaults_but_no_pod_only_or_admission_fields() -> None:
    spec = deployment(template({"containers": [container(resources={"limits": {"cpu": "1"}})]}))
    pod_spec = spec["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["containers"][0]["terminationMessagePolicy"] == "File"
    for absent in ("enableServiceLinks", "serviceAccountName", "priority", "tolerations"):
        assert absent not in pod_spec
    assert pod_spec["containers"][0]["resources"] == {"limits": {"cpu": "1"}}
    assert spec["spec"]["template"]["metadata"] == {"labels": {"app": "a"}}


def test_container_gets_termination_message_and_resources_defaults() -> None:
    got = pod_container()
    assert got["terminationMessagePath"] == "/dev/termination-log"
    assert got["terminationMessagePolicy"] == "File"
    assert got["resources"] == {}
    assert got["imagePullPolicy"] == "IfNotPresent"


def test_container_keeps_user_values() -> None:
    got = pod_container(
        imagePullPolicy="Never",
        terminationMessagePath="/tmp/t",
        terminationMessagePolicy="FallbackToLogsOnError",
        resources={"requests": {"cpu": "100m"}},
    )
    assert got["imagePullPolicy"] == "Never"
    assert got["terminationMessagePath"] == "/tmp/t"
    assert got["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert got["resources"] == {"requests": {"cpu": "100m"}}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("repo:5000/nginx", "Always"),
        ("repo:5000/nginx:1.0", "IfNotPresent"),
        (f"nginx@{DIGEST}", "IfNotPresent"),
        (f"nginx:latest@{DIGEST}", "Always"),
        ("registry.example.com/team/app", "Always"),
        ("NGINX", "IfNotPresent"),  # does not parse: no tag, so not "latest"
    ],
)
def test_image_pull_policy_follows_the_image_tag(image: str, policy: str) -> None:
    assert pod_container(image=image)["imagePullPolicy"] == policy


def test_image_tag_parses_registry_ports_and_digests() -> None:
    assert image_tag("localhost:5000/a/b:v2") == "v2"
    assert image_tag("localhost:5000/a/b") == "latest"
    assert image_tag(f"a/b@{DIGEST}") == ""
    assert image_tag("") == ""


def test_init_and_ephemeral_containers_are_defaulted_too() -> None:
    spec = pod(
        {
            "containers": [container()],
            "initContainers": [container(name="init", image="busybox")],
            "ephemeralContainers": [container(name="debug", image="busybox:1.36")],
        }
    )["spec"]
    assert spec["initContainers"][0]["imagePullPolicy"] == "Always"
    assert spec["ephemeralContainers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert spec["ephemeralContainers"][0]["terminationMessagePath"] == "/dev/termination-log"


def test_container_port_protocol_defaults_to_tcp_and_user_protocol_is_kept() -> None:
    got = pod_container(ports=[{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}])
    assert [p["protocol"] for p in got["ports"]] == ["TCP", "UDP"]
    assert "hostPort" not in got["ports"][0]


def test_probe_defaults_and_http_get_scheme_and_path() -> None:
    got = pod_container(readinessProbe={"httpGet": {"port": 8080}})["readinessProbe"]
    assert got == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def test_probe_keeps_user_values_and_treats_zero_as_unset() -> None:
    got = pod_container(
        livenessProbe={
            "tcpSocket": {"port": 80},
            "timeoutSeconds": 0,
            "periodSeconds": 30,
            "failureThreshold": 7,
        }
    )["livenessProbe"]
    assert got["timeoutSeconds"] == 1
    assert got["periodSeconds"] == 30
    assert got["failureThreshold"] == 7
    assert got["tcpSocket"] == {"port": 80}


def test_no_probe_is_invented_when_none_is_given() -> None:
    got = pod_container()
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & got.keys()


def test_lifecycle_http_get_and_grpc_probe_are_defaulted() -> None:
    got = pod_container(
        lifecycle={"preStop": {"httpGet": {"port": 80, "scheme": "HTTPS"}}},
        startupProbe={"grpc": {"port": 9090}},
    )
    assert got["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "scheme": "HTTPS", "path": "/"}
    assert got["startupProbe"]["grpc"] == {"port": 9090, "service": ""}


def test_env_field_ref_api_version_and_resource_field_ref_divisor() -> None:
    got = pod_container(
        env=[
            {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "K", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "x"}}},
        ]
    )["env"]
    assert got[0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert got[1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"
    assert got[2]["valueFrom"]["fieldRef"]["apiVersion"] == "v2"


# -- volumes -------------------------------------------------------------------------------------


def test_volume_file_modes_default_to_0644() -> None:
    volumes = pod(
        {
            "containers": [container()],
            "volumes": [
                {"name": "a", "configMap": {"name": "cm"}},
                {"name": "b", "secret": {"secretName": "s"}},
                {"name": "c", "downwardAPI": {"items": []}},
                {"name": "d", "projected": {"sources": []}},
            ],
        }
    )["spec"]["volumes"]
    assert volumes[0]["configMap"]["defaultMode"] == 420
    assert volumes[1]["secret"]["defaultMode"] == 420
    assert volumes[2]["downwardAPI"]["defaultMode"] == 420
    assert volumes[3]["projected"]["defaultMode"] == 420


def test_volume_user_file_mode_is_kept() -> None:
    volume = {"name": "a", "secret": {"secretName": "s", "defaultMode": 0o400}}
    got = pod({"containers": [container()], "volumes": [volume]})["spec"]["volumes"][0]
    assert got["secret"]["defaultMode"] == 256


def test_volume_without_source_becomes_empty_dir_and_empty_dir_stays_as_given() -> None:
    volumes = pod(
        {
            "containers": [container()],
            "volumes": [{"name": "bare"}, {"name": "e", "emptyDir": {}}],
        }
    )["spec"]["volumes"]
    assert volumes == [{"name": "bare", "emptyDir": {}}, {"name": "e", "emptyDir": {}}]


def test_host_path_token_projection_and_ephemeral_claim_defaults() -> None:
    volumes = pod(
        {
            "containers": [container()],
            "volumes": [
                {"name": "h", "hostPath": {"path": "/var/log"}},
                {"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
                {
                    "name": "e",
                    "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["RWO"]}}},
                },
            ],
        }
    )["spec"]["volumes"]
    assert volumes[0]["hostPath"]["type"] == ""
    token = volumes[1]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["expirationSeconds"] == 3600
    assert volumes[2]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"] == "Filesystem"


def test_seed_replica_set_keeps_user_mode_0777_and_empty_medium() -> None:
    manifest = yaml.safe_load(SEED_RS.read_text())
    manifest["apiVersion"] = "apps/v1"  # the 2016 blog used extensions/v1beta1
    manifest["spec"]["selector"] = {"matchLabels": {"app": "nginx"}}
    got = apply_defaults("apps", "v1", "ReplicaSet", manifest)
    spec = got["spec"]
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert volumes["zone-fetch"]["configMap"] == {"defaultMode": 511, "name": "zone-fetch"}
    assert volumes["html-dir"]["emptyDir"] == {"medium": ""}
    assert spec["replicas"] == 9
    frontend, fetcher = spec["template"]["spec"]["containers"]
    assert frontend["imagePullPolicy"] == "Always"
    assert frontend["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert fetcher["command"] == ["/bin/sh", "-c", "/zonefetch/zonefetch.sh"]
    assert got["status"] == {"replicas": 0}


# -- pod-only defaults and admission ---------------------------------------------------------


def test_pod_requests_default_to_limits_only_for_missing_resources() -> None:
    resources = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}
    got = pod_container(resources=resources)["resources"]
    assert got["requests"] == {"cpu": "500m", "memory": "1Gi"}


def test_host_network_pod_gets_host_ports_but_template_does_not() -> None:
    spec = {"hostNetwork": True, "containers": [container(ports=[{"containerPort": 8080}])]}
    assert pod(spec)["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080
    templated = deployment(template(copy.deepcopy(spec)))["spec"]["template"]["spec"]
    assert "hostPort" not in templated["containers"][0]["ports"][0]


def test_service_account_admission_defaults_and_mirrors_the_deprecated_field() -> None:
    spec = pod({"containers": [container()]})["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    mine = pod({"containers": [container()], "serviceAccountName": "builder"})["spec"]
    assert (mine["serviceAccountName"], mine["serviceAccount"]) == ("builder", "builder")
    legacy = pod({"containers": [container()], "serviceAccount": "old"})["spec"]
    assert legacy["serviceAccountName"] == "old"


def test_service_account_admission_can_be_switched_off() -> None:
    spec = pod({"containers": [container()]}, service_account_admission=False)["spec"]
    assert "serviceAccountName" not in spec
    assert "serviceAccount" not in spec


def test_default_toleration_seconds_adds_both_tolerations() -> None:
    tolerations = pod({"containers": [container()]})["spec"]["tolerations"]
    assert tolerations == [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]


def test_existing_tolerations_are_kept_and_suppress_matching_defaults() -> None:
    mine = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
    got = pod({"containers": [container()], "tolerations": [mine]})["spec"]["tolerations"]
    assert got[0] == mine
    assert [t["key"] for t in got] == [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ]
    everything = pod({"containers": [container()], "tolerations": [{"operator": "Exists"}]})
    assert everything["spec"]["tolerations"] == [{"operator": "Exists"}]
    off = pod({"containers": [container()]}, default_toleration_seconds=False)
    assert "tolerations" not in off["spec"]


def test_priority_admission_sets_priority_and_preemption_policy() -> None:
    spec = pod({"containers": [container()]})["spec"]
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    critical = pod({"containers": [container()], "priorityClassName": "system-cluster-critical"})
    assert critical["spec"]["priority"] == 2000000000
    custom = pod({"containers": [container()], "priorityClassName": "batch-low"})["spec"]
    assert "priority" not in custom
    off = pod({"containers": [container()]}, priority_admission=False)["spec"]
    assert "priority" not in off
    assert "preemptionPolicy" not in off


def test_pod_status_ip_fields_are_kept_in_sync() -> None:
    obj = {"metadata": {"name": "p"}, "spec": {"containers": [container()]}}
    got = apply_defaults("", "v1", "Pod", {**obj, "status": {"podIP": "10.0.0.5"}})
    assert got["status"]["podIPs"] == [{"ip": "10.0.0.5"}]
    got = apply_defaults("", "v1", "Pod", {**obj, "status": {"hostIPs": [{"ip": "192.0.2.1"}]}})
    assert got["status"]["hostIP"] == "192.0.2.1"


# -- apps ----------------------------------------------------------------------------------------


def test_deployment_defaults() -> None:
    spec = deployment(template({"containers": [container()]}))["spec"]
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }


def test_deployment_keeps_user_values_and_fills_partial_rolling_update() -> None:
    spec = deployment(
        {
            **template({"containers": [container()]}),
            "replicas": 0,
            "revisionHistoryLimit": 2,
            "progressDeadlineSeconds": 60,
            "strategy": {"rollingUpdate": {"maxSurge": 1}},
        }
    )["spec"]
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (
        0,
        2,
        60,
    )
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": "25%"}


def test_recreate_deployment_gets_no_rolling_update() -> None:
    spec = deployment({**template({"containers": [container()]}), "strategy": {"type": "Recreate"}})
    assert spec["spec"]["strategy"] == {"type": "Recreate"}


def test_replica_set_replicas_default_to_one() -> None:
    obj = {"metadata": {"name": "r"}, "spec": template({"containers": [container()]})}
    assert apply_defaults("apps", "v1", "ReplicaSet", obj)["spec"]["replicas"] == 1


# -- services ------------------------------------------------------------------------------------


def test_cluster_ip_service_defaults() -> None:
    got = service({"selector": {"app": "a"}, "ports": [{"port": 80}]})
    spec = got["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec
    assert "allocateLoadBalancerNodePorts" not in spec
    assert got["status"] == {"loadBalancer": {}}


def test_service_keeps_user_values() -> None:
    spec = service(
        {
            "type": "NodePort",
            "selector": {"app": "a"},
            "ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}],
            "externalTrafficPolicy": "Local",
            "internalTrafficPolicy": "Local",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
        }
    )["spec"]
    assert spec["ports"] == [{"port": 53, "protocol": "UDP", "targetPort": "dns"}]
    assert spec["externalTrafficPolicy"] == "Local"
    assert spec["internalTrafficPolicy"] == "Local"
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 60}}


def test_client_ip_affinity_gets_three_hour_timeout() -> None:
    spec = service({"selector": {"a": "b"}, "ports": [{"port": 1}], "sessionAffinity": "ClientIP"})
    assert spec["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_load_balancer_and_node_port_services_get_external_traffic_policy() -> None:
    balancer = service({"type": "LoadBalancer", "selector": {"a": "b"}, "ports": [{"port": 1}]})
    assert balancer["spec"]["externalTrafficPolicy"] == "Cluster"
    assert balancer["spec"]["allocateLoadBalancerNodePorts"] is True
    node_port = service({"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 1}]})
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    assert "allocateLoadBalancerNodePorts" not in node_port["spec"]
    external_ips = service({"externalIPs": ["198.51.100.7"], "ports": [{"port": 1}]})
    assert external_ips["spec"]["externalTrafficPolicy"] == "Cluster"


def test_load_balancer_status_ip_gets_vip_mode() -> None:
    obj = {
        "metadata": {"name": "s"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 1}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb"}]}},
    }
    ingress = apply_defaults("", "v1", "Service", obj)["status"]["loadBalancer"]["ingress"]
    assert ingress == [{"ip": "203.0.113.9", "ipMode": "VIP"}, {"hostname": "lb"}]


def test_external_name_service_gets_no_ip_families_or_traffic_policies() -> None:
    spec = service({"type": "ExternalName", "externalName": "example.com"})["spec"]
    assert spec == {
        "type": "ExternalName",
        "externalName": "example.com",
        "sessionAffinity": "None",
    }


def test_headless_services_ip_family_policy_depends_on_selector() -> None:
    selectorless = service({"clusterIP": "None", "ports": [{"port": 80}]})["spec"]
    assert selectorless["clusterIPs"] == ["None"]
    assert selectorless["ipFamilyPolicy"] == "RequireDualStack"
    assert selectorless["ipFamilies"] == ["IPv4", "IPv6"]
    selected = service({"clusterIP": "None", "selector": {"a": "b"}, "ports": [{"port": 80}]})
    assert selected["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert selected["spec"]["ipFamilies"] == ["IPv4"]


def test_user_cluster_ip_fills_cluster_ips_and_ip_family() -> None:
    spec = service({"clusterIP": "fd00::10", "selector": {"a": "b"}, "ports": [{"port": 80}]})
    assert spec["spec"]["clusterIPs"] == ["fd00::10"]
    assert spec["spec"]["ipFamilies"] == ["IPv6"]


# -- other kinds ---------------------------------------------------------------------------------


def test_namespace_defaults_and_name_label_overrides_user_value() -> None:
    obj = {
        "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "lie", "x": "y"}}
    }
    got = apply_defaults("", "v1", "Namespace", obj)
    assert got["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a", "x": "y"}
    assert got["spec"] == {"finalizers": ["kubernetes"]}
    assert got["status"] == {"phase": "Active"}


def test_namespace_keeps_user_finalizers_and_phase() -> None:
    obj = {
        "metadata": {"name": "n"},
        "spec": {"finalizers": ["example.com/x"]},
        "status": {"phase": "Terminating"},
    }
    got = apply_defaults("", "v1", "Namespace", obj)
    assert got["spec"]["finalizers"] == ["example.com/x", "kubernetes"]
    assert got["status"]["phase"] == "Terminating"


def test_secret_type_defaults_to_opaque_and_user_type_is_kept() -> None:
    assert apply_defaults("", "v1", "Secret", {"metadata": {"name": "s"}})["type"] == "Opaque"
    tls = {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}
    assert apply_defaults("", "v1", "Secret", tls)["type"] == "kubernetes.io/tls"


def test_secret_string_data_is_merged_into_data_and_wins() -> None:
    obj = {
        "metadata": {"name": "s"},
        "data": {"a": base64.b64encode(b"old").decode(), "b": base64.b64encode(b"keep").decode()},
        "stringData": {"a": "new", "c": "ünï"},
    }
    got = apply_defaults("", "v1", "Secret", obj)
    assert "stringData" not in got
    decoded = {k: base64.b64decode(v).decode() for k, v in got["data"].items()}
    assert decoded == {"a": "new", "b": "keep", "c": "ünï"}


def test_endpoints_and_endpoint_slice_ports_default_to_tcp() -> None:
    endpoints = {"metadata": {"name": "e"}, "subsets": [{"ports": [{"port": 80}]}]}
    got = apply_defaults("", "v1", "Endpoints", endpoints)
    assert got["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    eps = {"metadata": {"name": "e"}, "addressType": "IPv4", "ports": [{"port": 80}]}
    sliced = apply_defaults("discovery.k8s.io", "v1", "EndpointSlice", eps)
    assert sliced["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]


def test_event_gets_the_always_serialized_empty_fields() -> None:
    obj = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod"}, "reason": "R"}
    got = apply_defaults("", "v1", "Event", obj)
    assert (got["reportingComponent"], got["reportingInstance"], got["source"]) == ("", "", {})


def test_crd_defaults_conversion_and_names() -> None:
    crd = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    got = apply_defaults("apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd)
    assert got["spec"]["conversion"] == {"strategy": "None"}
    assert got["spec"]["names"]["singular"] == "widget"
    assert got["spec"]["names"]["listKind"] == "WidgetList"
    assert got["spec"]["versions"] == [{"name": "v1", "served": True, "storage": True}]


def test_crd_webhook_conversion_is_kept_and_service_port_defaults_to_443() -> None:
    conversion = {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {"service": {"name": "conv", "namespace": "ns"}},
            "conversionReviewVersions": ["v1"],
        },
    }
    crd = {"metadata": {"name": "w"}, "spec": {"names": {"kind": "W"}, "conversion": conversion}}
    got = apply_defaults("apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd)
    assert got["spec"]["conversion"]["strategy"] == "Webhook"
    assert got["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443


def test_node_allocatable_defaults_to_capacity_and_pod_cidrs_sync() -> None:
    obj = {
        "metadata": {"name": "n"},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {"capacity": {"cpu": "4", "pods": "110"}},
    }
    got = apply_defaults("", "v1", "Node", obj)
    assert got["status"]["allocatable"] == {"cpu": "4", "pods": "110"}
    assert got["spec"]["podCIDRs"] == ["10.244.0.0/24"]


def test_ingress_class_parameters_scope_and_lease_spec() -> None:
    ingress_class = {
        "metadata": {"name": "nginx"},
        "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {"kind": "C", "name": "c"}},
    }
    got = apply_defaults("networking.k8s.io", "v1", "IngressClass", ingress_class)
    assert got["spec"]["parameters"]["scope"] == "Cluster"
    lease = apply_defaults("coordination.k8s.io", "v1", "Lease", {"metadata": {"name": "l"}})
    assert lease["spec"] == {}


def test_config_map_and_ingress_paths_get_no_invented_values() -> None:
    cm = {"metadata": {"name": "c"}, "data": {"k": "v"}}
    assert apply_defaults("", "v1", "ConfigMap", cm) == cm
    rule = {"http": {"paths": [{"path": "/", "backend": {"service": {"name": "s"}}}]}}
    ingress = {"metadata": {"name": "i"}, "spec": {"rules": [rule]}}
    got = apply_defaults("networking.k8s.io", "v1", "Ingress", ingress)
    assert got["spec"]["rules"] == [rule]
    assert got["status"] == {"loadBalancer": {}}


# -- general properties --------------------------------------------------------------------------


def test_custom_resources_come_back_as_an_unchanged_copy() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": {"n": 1}}}
    got = apply_defaults("example.com", "v1", "Widget", widget)
    assert got == widget
    assert got is not widget
    assert got["spec"] is not widget["spec"]


def test_input_is_never_mutated_and_mappings_are_accepted() -> None:
    spec = {"containers": [container(ports=[{"containerPort": 80}])], "volumes": [{"name": "v"}]}
    original = {"metadata": {"name": "p"}, "spec": spec}
    snapshot = copy.deepcopy(original)
    apply_defaults("", "v1", "Pod", original)
    assert original == snapshot
    frozen = MappingProxyType({"metadata": MappingProxyType({"name": "s"}), "type": ""})
    assert apply_defaults("", "v1", "Secret", frozen)["type"] == "Opaque"


_images = st.sampled_from(["nginx", "nginx:latest", "nginx:1.25", f"a@{DIGEST}", "repo:5000/x"])
_probes = st.fixed_dictionaries(
    {"httpGet": st.fixed_dictionaries({"port": st.integers(1, 65535)})},
    optional={"timeoutSeconds": st.integers(0, 5), "periodSeconds": st.integers(0, 60)},
)
_containers = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c"]), "image": _images},
    optional={
        "imagePullPolicy": st.sampled_from(["Always", "Never", "", "IfNotPresent"]),
        "ports": st.lists(
            st.fixed_dictionaries(
                {"containerPort": st.integers(1, 65535)},
                optional={"protocol": st.sampled_from(["TCP", "UDP", ""])},
            ),
            max_size=2,
        ),
        "livenessProbe": _probes,
        "resources": st.fixed_dictionaries(
            {}, optional={"limits": st.fixed_dictionaries({"cpu": st.sampled_from(["1", "2"])})}
        ),
    },
)
_volumes = st.one_of(
    st.fixed_dictionaries({"name": st.just("v")}),
    st.fixed_dictionaries(
        {
            "name": st.just("cm"),
            "configMap": st.fixed_dictionaries(
                {"name": st.just("c")}, optional={"defaultMode": st.integers(0, 511)}
            ),
        }
    ),
)
_pod_specs = st.fixed_dictionaries(
    {"containers": st.lists(_containers, min_size=1, max_size=3)},
    optional={
        "restartPolicy": st.sampled_from(["Always", "Never", "OnFailure", ""]),
        "hostNetwork": st.booleans(),
        "volumes": st.lists(_volumes, max_size=2),
        "serviceAccount": st.sampled_from(["", "legacy"]),
        "tolerations": st.lists(
            st.fixed_dictionaries(
                {"operator": st.just("Exists")},
                optional={"key": st.sampled_from(["node.kubernetes.io/not-ready", "gpu"])},
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=150, deadline=None)
@given(spec=_pod_specs, as_template=st.booleans())
def test_defaulting_is_idempotent_for_generated_pod_specs(
    spec: dict[str, Any], as_template: bool
) -> None:
    if as_template:
        once = deployment(template(spec))
        twice = apply_defaults("apps", "v1", "Deployment", once)
    else:
        once = pod(spec)
        twice = apply_defaults("", "v1", "Pod", once)
    assert twice == once
    pod_spec = once["spec"]["template"]["spec"] if as_template else once["spec"]
    if spec.get("restartPolicy"):
        assert pod_spec["restartPolicy"] == spec["restartPolicy"]
    for given_container, got in zip(spec["containers"], pod_spec["containers"], strict=True):
        if given_container.get("imagePullPolicy"):
            assert got["imagePullPolicy"] == given_container["imagePullPolicy"]


@pytest.mark.parametrize(
    ("group", "kind", "obj"),
    [
        ("", "Service", {"metadata": {"name": "s"}, "spec": {"clusterIP": "None"}}),
        ("", "Namespace", {"metadata": {"name": "n"}}),
        ("", "Secret", {"metadata": {"name": "s"}, "stringData": {"a": "b"}}),
        ("apps", "Deployment", {"metadata": {"name": "d"}, "spec": {}}),
    ],
)
def test_defaulting_is_idempotent_for_other_kinds(
    group: str, kind: str, obj: dict[str, Any]
) -> None:
    once = apply_defaults(group, "v1", kind, obj)
    assert apply_defaults(group, "v1", kind, once) == once

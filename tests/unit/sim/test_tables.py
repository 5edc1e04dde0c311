"""Server-side printing: the Tables ``kubectl get`` receives from the simulated API server."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfed_local.sim.jsonpath import JsonPathError, find_json_path, go_print, parse_json_path
from kfed_local.sim.resources import ResourceType, builtin_types, types_from_crd
from kfed_local.sim.schema import schema_for_kind
from kfed_local.sim.tables import build_table, human_duration

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TYPES = {(rt.group, rt.plural): rt for rt in builtin_types()}


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` before NOW."""
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, age_seconds: float = 60, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "resourceVersion": "7",
        "creationTimestamp": ago(age_seconds),
        **extra,
    }


def table_for(
    plural: str, objects: Sequence[Mapping[str, Any]], group: str = "", **kwargs: Any
) -> dict[str, Any]:
    return build_table(TYPES[(group, plural)], objects, now=NOW, **kwargs)


def printed(table: Mapping[str, Any], *, wide: bool = False) -> list[list[Any]]:
    """What kubectl shows: upper-cased headers, then the cells of the columns it displays."""
    columns = table["columnDefinitions"]
    shown = [i for i, column in enumerate(columns) if wide or column["priority"] == 0]
    header: list[Any] = [columns[i]["name"].upper() for i in shown]
    return [header] + [[row["cells"][i] for i in shown] for row in table["rows"]]


def column_names(table: Mapping[str, Any]) -> list[str]:
    return [column["name"] for column in table["columnDefinitions"]]


def pod(name: str = "nginx-ph8zx", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, 25),
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx"}, {"name": "log", "image": "busybox"}]
        },
        "status": status,
    }


def running(name: str, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(20)}},
        **extra,
    }


# -- human_duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-2.0, "<invalid>"),
        (-1.9, "0s"),  # up to 2s of clock skew still reads as now
        (0, "0s"),
        (42, "42s"),
        (119.9, "119s"),
        (120, "2m"),
        (130, "2m10s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 300, "3h5m"),
        (8 * 3600 - 1, "7h59m"),
        (8 * 3600 + 59 * 60, "8h"),
        (48 * 3600 - 1, "47h"),
        (48 * 3600, "2d"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (8 * 86400 - 1, "7d23h"),
        (8 * 86400, "8d"),
        (730 * 86400 - 1, "729d"),
        (730 * 86400, "2y"),
        (735 * 86400, "2y5d"),
        (8 * 365 * 86400 + 40 * 86400, "8y"),
    ],
)
def test_human_duration_matches_kube_boundaries(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


@given(st.floats(min_value=0, max_value=20 * 365 * 86400, allow_nan=False))
def test_human_duration_never_overstates_and_loses_less_than_its_last_unit(seconds: float) -> None:
    text = human_duration(seconds)
    parts = re.fullmatch(r"(\d+)([smhdy])(?:(\d+)([smhd]))?", text)
    assert parts is not None, text
    numbers = [
        (int(n), u) for n, u in zip(parts.groups()[::2], parts.groups()[1::2], strict=True) if n
    ]
    shown = sum(n * _UNIT_SECONDS[u] for n, u in numbers)
    precision = _UNIT_SECONDS[numbers[-1][1]]
    assert shown <= int(seconds) < shown + precision


# -- built-in tables --------------------------------------------------------------------------


def test_replicaset_prints_desired_current_ready_like_the_2016_blog() -> None:
    rs = {
        "metadata": meta("nginx", 42),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9"}]}},
        },
        "status": {"replicas": 1, "readyReplicas": 1},
    }
    table = table_for("replicasets", [rs], group="apps")
    assert printed(table) == [
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["nginx", 1, 1, 1, "42s"],
    ]
    assert printed(table, wide=True)[1][5:] == ["nginx", "nginx:1.9", "app=nginx"]
    assert [c["type"] for c in table["columnDefinitions"][1:4]] == ["integer"] * 3


def test_replicaset_selector_renders_expressions_sorted_by_key_and_none_when_empty() -> None:
    selector = {
        "matchLabels": {"tier": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
        ],
    }
    with_selector = {"metadata": meta("a"), "spec": {"replicas": 2, "selector": selector}}
    empty = {"metadata": meta("b"), "spec": {"replicas": 0, "selector": {}}}
    table = table_for("replicasets", [with_selector, empty], group="apps")
    assert [row["cells"][7] for row in table["rows"]] == [
        "!canary,env in (dev,prod),tier=web,zone",
        "<none>",
    ]
    assert [row["cells"][1] for row in table["rows"]] == [2, 0]


def test_deployment_prints_ready_fraction_up_to_date_and_available() -> None:
    deployment = {
        "metadata": meta("web", 3 * 3600 + 120),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:2"},
                        {"name": "proxy", "image": "envoy:1.30"},
                    ]
                }
            },
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    table = table_for("deployments", [deployment], group="apps")
    assert printed(table, wide=True) == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
        ["web", "2/3", 3, 2, "3h2m", "app,proxy", "web:2,envoy:1.30", "app=web"],
    ]


def test_running_pod_prints_ready_containers_status_restarts_and_age() -> None:
    ready = {"type": "Ready", "status": "True"}
    obj = pod(
        phase="Running",
        conditions=[ready],
        podIP="10.244.0.5",
        podIPs=[{"ip": "10.244.0.5"}],
        containerStatuses=[running("nginx"), running("log")],
    )
    obj["spec"]["nodeName"] = "node-1"
    table = table_for("pods", [obj])
    assert printed(table) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["nginx-ph8zx", "2/2", "Running", "0", "25s"],
    ]
    assert table["rows"][0]["cells"][5:] == ["10.244.0.5", "node-1", "<none>", "<none>"]
    assert "conditions" not in table["rows"][0]


def test_pod_restarts_show_when_the_last_container_restarted() -> None:
    restarted = running(
        "nginx",
        restarts=3,
        lastState={"terminated": {"exitCode": 1, "finishedAt": ago(300)}},
    )
    obj = pod(phase="Running", containerStatuses=[restarted, running("log", restarts=1)])
    cells = table_for("pods", [obj])["rows"][0]["cells"]
    assert cells[3] == "4 (5m ago)"


def test_pending_pod_shows_the_waiting_reason_of_its_first_container() -> None:
    waiting = {"name": "nginx", "ready": False, "restartCount": 0}
    obj = pod(
        phase="Pending",
        containerStatuses=[
            {**waiting, "state": {"waiting": {"reason": "ContainerCreating"}}},
            {**waiting, "name": "log", "state": {"waiting": {"reason": "ImagePullBackOff"}}},
        ],
    )
    unscheduled = pod("unscheduled", phase="Pending")
    rows = table_for("pods", [obj, unscheduled])["rows"]
    assert rows[0]["cells"][1:4] == ["0/2", "ContainerCreating", "0"]
    assert rows[1]["cells"][1:3] == ["0/2", "Pending"]
    assert rows[1]["cells"][5:7] == ["<none>", "<none>"]


def test_terminated_containers_print_their_reason_exit_code_or_signal() -> None:
    def terminated(**state: Any) -> dict[str, Any]:
        return pod(
            phase="Running",
            containerStatuses=[
                {"name": "nginx", "restartCount": 0, "state": {"terminated": state}},
            ],
        )

    rows = table_for(
        "pods",
        [
            terminated(exitCode=137),
            terminated(exitCode=0, signal=9),
            terminated(reason="OOMKilled"),
        ],
    )["rows"]
    assert [row["cells"][2] for row in rows] == ["ExitCode:137", "Signal:9", "OOMKilled"]


def test_completed_pod_has_the_completed_row_condition() -> None:
    done = {"name": "nginx", "restartCount": 0, "state": {"terminated": {"reason": "Completed"}}}
    succeeded = pod(phase="Succeeded", containerStatuses=[done, {**done, "name": "log"}])
    failed = pod("failed", phase="Failed", reason="Evicted")
    rows = table_for("pods", [succeeded, failed])["rows"]
    assert rows[0]["cells"][1:3] == ["0/2", "Completed"]
    assert rows[0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert rows[1]["cells"][2] == "Evicted"
    assert rows[1]["conditions"][0]["reason"] == "Failed"


def test_completed_container_with_a_running_sibling_reads_running_or_not_ready() -> None:
    done = {"name": "nginx", "restartCount": 0, "state": {"terminated": {"reason": "Completed"}}}
    ready_pod = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    ready_pod["status"]["containerStatuses"] = [done, running("log")]
    unready_pod = pod("other", phase="Running", containerStatuses=[done, running("log")])
    rows = table_for("pods", [ready_pod, unready_pod])["rows"]
    assert [row["cells"][2] for row in rows] == ["Running", "NotReady"]


def test_deleted_pod_reads_terminating_unless_its_node_was_lost() -> None:
    deleting = pod(phase="Running", containerStatuses=[running("nginx"), running("log")])
    deleting["metadata"]["deletionTimestamp"] = ago(5)
    lost = pod("lost", phase="Running", reason="NodeLost")
    lost["metadata"]["deletionTimestamp"] = ago(5)
    finished = pod("finished", phase="Succeeded")
    finished["metadata"]["deletionTimestamp"] = ago(5)
    rows = table_for("pods", [deleting, lost, finished])["rows"]
    assert [row["cells"][2] for row in rows] == ["Terminating", "Unknown", "Succeeded"]


def test_initializing_pod_reports_init_progress_and_failures() -> None:
    def with_init(*statuses: dict[str, Any]) -> dict[str, Any]:
        obj = pod(phase="Pending", initContainerStatuses=list(statuses))
        obj["spec"]["initContainers"] = [{"name": "migrate"}, {"name": "seed"}]
        return obj

    done = {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}
    waiting = {
        "name": "seed",
        "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}},
    }
    crashing = {
        "name": "seed",
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    }
    failed = {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
    rows = table_for(
        "pods", [with_init(done, waiting), with_init(done, crashing), with_init(failed)]
    )["rows"]
    assert [row["cells"][2] for row in rows] == [
        "Init:1/2",
        "Init:CrashLoopBackOff",
        "Init:ExitCode:2",
    ]
    assert rows[1]["cells"][3] == "4"


def test_started_sidecar_counts_as_a_ready_container() -> None:
    obj = pod(
        phase="Running",
        conditions=[{"type": "Initialized", "status": "True"}],
        initContainerStatuses=[
            {
                "name": "mesh",
                "ready": True,
                "started": True,
                "restartCount": 2,
                "state": {"running": {"startedAt": ago(20)}},
            }
        ],
        containerStatuses=[running("nginx"), running("log")],
    )
    obj["spec"]["initContainers"] = [{"name": "mesh", "restartPolicy": "Always"}]
    cells = table_for("pods", [obj])["rows"][0]["cells"]
    assert cells[1:4] == ["3/3", "Running", "2"]


def test_scheduling_gated_pod_and_readiness_gates() -> None:
    gated = pod(
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
    )
    gates = pod(
        "gates",
        phase="Running",
        conditions=[
            {"type": "example.com/lb", "status": "True"},
            {"type": "example.com/dns", "status": "False"},
        ],
    )
    gates["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb"},
        {"conditionType": "example.com/dns"},
    ]
    rows = table_for("pods", [gated, gates])["rows"]
    assert rows[0]["cells"][2] == "SchedulingGated"
    assert rows[1]["cells"][8] == "1/2"


def test_namespace_prints_its_phase() -> None:
    namespace = {"metadata": meta("kube-system", 14 * 60), "status": {"phase": "Active"}}
    assert printed(table_for("namespaces", [namespace])) == [
        ["NAME", "STATUS", "AGE"],
        ["kube-system", "Active", "14m"],
    ]


def test_nodes_print_status_roles_version_and_wide_system_info() -> None:
    control = {
        "metadata": meta(
            "cp-1",
            3 * 86400,
            labels={"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master"},
        ),
        "spec": {},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "Hostname", "address": "cp-1"},
                {"type": "InternalIP", "address": "172.18.0.2"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.37.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.8.0",
                "containerRuntimeVersion": "containerd://2.0.0",
            },
        },
    }
    cordoned = {
        "metadata": meta("worker-1", 3 * 86400),
        "spec": {"unschedulable": True},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    fresh = {"metadata": meta("worker-2", 10), "spec": {}, "status": {}}
    table = table_for("nodes", [control, cordoned, fresh])
    assert printed(table, wide=True) == [
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME",
        ],
        [
            "cp-1",
            "Ready",
            "control-plane,master",
            "3d",
            "v1.37.0",
            "172.18.0.2",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.8.0",
            "containerd://2.0.0",
        ],
        ["worker-1", "NotReady,SchedulingDisabled", "<none>", "3d", "", "<none>", "<none>"]
        + ["<unknown>"] * 3,
        ["worker-2", "Unknown", "<none>", "10s", "", "<none>", "<none>"] + ["<unknown>"] * 3,
    ]


def test_cluster_ip_service_prints_ports_and_no_external_ip() -> None:
    service = {
        "metadata": meta("kubernetes", 86400 * 30),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.1",
            "clusterIPs": ["10.96.0.1"],
            "ports": [
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443},
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            ],
        },
    }
    assert printed(table_for("services", [service]), wide=True) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"],
        ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP,53/UDP", "30d", "<none>"],
    ]


def test_load_balancer_service_prints_node_port_and_pending_or_ingress_ips() -> None:
    def service(name: str, **status: Any) -> dict[str, Any]:
        return {
            "metadata": meta(name, 90),
            "spec": {
                "type": "LoadBalancer",
                "clusterIPs": ["10.0.171.239"],
                "selector": {"run": "nginx", "app": "web"},
                "ports": [{"port": 80, "nodePort": 30061, "protocol": "TCP"}],
            },
            "status": status,
        }

    pending = service("pending")
    ready = service(
        "ready",
        loadBalancer={"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]},
    )
    extra = service("extra", loadBalancer={"ingress": [{"ip": "203.0.113.9"}]})
    extra["spec"]["externalIPs"] = ["198.51.100.1"]
    rows = table_for("services", [pending, ready, extra])["rows"]
    assert rows[0]["cells"][:5] == [
        "pending",
        "LoadBalancer",
        "10.0.171.239",
        "<pending>",
        "80:30061/TCP",
    ]
    assert rows[0]["cells"][6] == "app=web,run=nginx"
    assert rows[1]["cells"][3] == "203.0.113.9,lb.example.com"
    assert rows[2]["cells"][3] == "203.0.113.9,198.51.100.1"


def test_external_name_service_prints_its_target_host() -> None:
    service = {
        "metadata": meta("db", 60),
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    cells = table_for("services", [service])["rows"][0]["cells"]
    assert cells[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]


def test_endpoints_show_three_addresses_then_how_many_more() -> None:
    ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
    many = {
        "metadata": meta("web"),
        "subsets": [
            {"addresses": [{"ip": ip} for ip in ips], "ports": [{"port": 80, "protocol": "TCP"}]}
        ],
    }
    headless = {"metadata": meta("headless"), "subsets": [{"addresses": [{"ip": "fd00::1"}]}]}
    ipv6 = {
        "metadata": meta("v6"),
        "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 8080}]}],
    }
    empty = {"metadata": meta("empty")}
    table = table_for("endpoints", [many, headless, ipv6, empty])
    assert column_names(table) == ["Name", "Endpoints", "Age"]
    assert [row["cells"][1] for row in table["rows"]] == [
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...",
        "fd00::1",
        "[fd00::1]:8080",
        "<none>",
    ]


def test_endpoint_slices_print_address_type_ports_and_endpoints() -> None:
    slice_ = {
        "metadata": meta("web-abc12", 60),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics"}],
        "endpoints": [{"addresses": [f"10.0.0.{i}"]} for i in range(1, 6)],
    }
    bare = {"metadata": meta("bare", 60), "addressType": "IPv6", "ports": [{}], "endpoints": []}
    table = table_for("endpointslices", [slice_, bare], group="discovery.k8s.io")
    assert printed(table) == [
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
        ["web-abc12", "IPv4", "80,metrics", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...", "60s"],
        ["bare", "IPv6", "*", "<unset>", "60s"],
    ]


def test_configmaps_secrets_and_service_accounts_count_their_entries() -> None:
    config_map = {
        "metadata": meta("settings"),
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": ""},
    }
    secret = {
        "metadata": meta("token"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    opaque = {"metadata": meta("plain")}
    account = {"metadata": meta("default"), "secrets": [{"name": "default-token"}]}
    assert printed(table_for("configmaps", [config_map])) == [
        ["NAME", "DATA", "AGE"],
        ["settings", 3, "60s"],
    ]
    assert printed(table_for("secrets", [secret, opaque])) == [
        ["NAME", "TYPE", "DATA", "AGE"],
        ["token", "kubernetes.io/tls", 2, "60s"],
        ["plain", "Opaque", 0, "60s"],
    ]
    assert printed(table_for("serviceaccounts", [account])) == [
        ["NAME", "SECRETS", "AGE"],
        ["default", 1, "60s"],
    ]


def test_events_print_last_seen_type_reason_object_and_message() -> None:
    event = {
        "metadata": meta("nginx.17c1", 600),
        "involvedObject": {"kind": "Pod", "name": "nginx", "fieldPath": "spec.containers{nginx}"},
        "reason": "Pulled",
        "message": '  Successfully pulled image "nginx"\n',
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(42),
        "count": 3,
        "type": "Normal",
    }
    new_style = {
        "metadata": meta("web.17c2", 30),
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up",
        "eventTime": "2024-05-01T11:59:30.123456Z",
        "reportingComponent": "deployment-controller",
        "reportingController": "deployment-controller",
        "type": "Normal",
    }
    series = {
        **new_style,
        "metadata": meta("web.17c3", 300),
        "series": {"count": 7, "lastObservedTime": "2024-05-01T11:59:50.000000Z"},
    }
    table = table_for("events", [event, new_style, series])
    assert printed(table) == [
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["42s", "Normal", "Pulled", "pod/nginx", 'Successfully pulled image "nginx"'],
        # 29.876s ago: kube truncates, it does not round
        ["29s", "Normal", "ScalingReplicaSet", "deployment/web", "Scaled up"],
        ["10s", "Normal", "ScalingReplicaSet", "deployment/web", "Scaled up"],
    ]
    wide = printed(table, wide=True)
    assert wide[0][4:6] == ["SUBOBJECT", "SOURCE"]
    assert wide[0][7:] == ["FIRST SEEN", "COUNT", "NAME"]
    assert wide[1][4:6] + wide[1][7:] == [
        "spec.containers{nginx}",
        "kubelet, node-1",
        "10m",
        3,
        "nginx.17c1",
    ]
    assert wide[2][5] == "deployment-controller"
    assert [row[8] for row in wide[2:]] == [1, 7]


def test_ingress_prints_class_hosts_address_and_ports() -> None:
    ingress = {
        "metadata": meta("web", 120),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
    }
    catch_all = {"metadata": meta("default-backend", 120), "spec": {"defaultBackend": {}}}
    many = {
        "metadata": meta("many", 120),
        "spec": {"rules": [{"host": f"h{i}.example.com"} for i in range(4)] + [{}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}},
    }
    table = table_for("ingresses", [ingress, catch_all, many], group="networking.k8s.io")
    assert printed(table) == [
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        ["web", "nginx", "a.example.com,b.example.com", "192.0.2.10", "80, 443", "2m"],
        ["default-backend", "<none>", "*", "", "80", "2m"],
        [
            "many",
            "<none>",
            "h0.example.com,h1.example.com,h2.example.com + 2 more...",
            "lb.example.com",
            "80",
            "2m",
        ],
    ]


def test_ingress_class_prints_controller_and_parameters_reference() -> None:
    with_parameters = {
        "metadata": meta("external-lb", 60),
        "spec": {
            "controller": "example.com/ingress-controller",
            "parameters": {
                "apiGroup": "k8s.example.com",
                "kind": "IngressParameters",
                "name": "lb",
            },
        },
    }
    plain = {"metadata": meta("nginx", 60), "spec": {"controller": "k8s.io/ingress-nginx"}}
    table = table_for("ingressclasses", [with_parameters, plain], group="networking.k8s.io")
    assert printed(table) == [
        ["NAME", "CONTROLLER", "PARAMETERS", "AGE"],
        [
            "external-lb",
            "example.com/ingress-controller",
            "IngressParameters.k8s.example.com/lb",
            "60s",
        ],
        ["nginx", "k8s.io/ingress-nginx", "<none>", "60s"],
    ]


def test_lease_prints_its_holder() -> None:
    held = {"metadata": meta("kube-scheduler", 7200), "spec": {"holderIdentity": "cp-1_abc"}}
    free = {"metadata": meta("free", 7200), "spec": {}}
    assert printed(table_for("leases", [held, free], group="coordination.k8s.io")) == [
        ["NAME", "HOLDER", "AGE"],
        ["kube-scheduler", "cp-1_abc", "120m"],
        ["free", "", "120m"],
    ]


def test_custom_resource_definitions_use_the_default_name_and_created_at_table() -> None:
    crd = {"metadata": meta("widgets.example.com", 0, creationTimestamp="2024-04-01T08:30:00Z")}
    crd_type = TYPES[("apiextensions.k8s.io", "customresourcedefinitions")]
    table = build_table(crd_type, [crd], now=NOW)
    assert printed(table) == [
        ["NAME", "CREATED AT"],
        ["widgets.example.com", "2024-04-01T08:30:00Z"],
    ]
    assert table["columnDefinitions"][1]["type"] == "date"
    assert build_table(crd_type, [], now=NOW)["rows"] is None  # kube's default convertor


# -- column definitions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "plural", "wide_columns"),
    [
        ("", "pods", ["IP", "Node", "Nominated Node", "Readiness Gates"]),
        (
            "",
            "nodes",
            ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
        ),
        ("", "services", ["Selector"]),
        ("", "events", ["Subobject", "Source", "First Seen", "Count", "Name"]),
        ("apps", "deployments", ["Containers", "Images", "Selector"]),
        ("apps", "replicasets", ["Containers", "Images", "Selector"]),
        ("", "namespaces", []),
        ("networking.k8s.io", "ingresses", []),
    ],
)
def test_wide_only_columns_have_priority_one(
    group: str, plural: str, wide_columns: list[str]
) -> None:
    columns = table_for(plural, [], group=group)["columnDefinitions"]
    assert [c["name"] for c in columns if c["priority"] == 1] == wide_columns
    assert {c["priority"] for c in columns} <= {0, 1}


@pytest.mark.parametrize("resource_type", builtin_types(), ids=lambda rt: rt.plural)
def test_every_built_in_row_has_one_cell_per_column(resource_type: ResourceType) -> None:
    table = build_table(resource_type, [{"metadata": {"name": "x"}}], now=NOW)
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
    for column in table["columnDefinitions"]:
        assert set(column) == {"name", "type", "format", "description", "priority"}
        assert column["format"] == ("name" if column["name"] == "Name" else "")


def test_column_descriptions_come_from_the_kubernetes_schema() -> None:
    columns = table_for("pods", [])["columnDefinitions"]
    pod_schema = schema_for_kind("", "v1", "Pod")
    assert pod_schema is not None
    name_doc = pod_schema.at("metadata")
    assert name_doc is not None
    assert columns[0]["description"] == name_doc.raw["properties"]["name"]["description"]
    assert columns[5]["description"].startswith("podIP address allocated to the pod")


# -- objects, metadata and headers -----------------------------------------------------------


def test_rows_carry_partial_object_metadata_by_default() -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {**meta("team-a"), "labels": {"team": "a"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    row = table_for("namespaces", [namespace])["rows"][0]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": namespace["metadata"],
    }
    assert row["object"]["metadata"] is not namespace["metadata"]


def test_include_object_returns_the_whole_object_or_none() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("team-a")}
    whole = table_for("namespaces", [namespace], include_object="Object")["rows"][0]
    assert whole["object"] == namespace
    assert whole["object"] is not namespace
    bare = table_for("namespaces", [namespace], include_object="None")["rows"][0]
    assert bare == {"cells": ["team-a", "", "60s"], "object": None}
    with pytest.raises(ValueError, match="includeObject"):
        table_for("namespaces", [namespace], include_object="Everything")


def test_table_metadata_follows_the_list_or_the_single_object() -> None:
    namespace = {"metadata": meta("team-a")}
    listed = table_for(
        "namespaces",
        [namespace],
        list_metadata={"resourceVersion": "42", "continue": "abc", "remainingItemCount": 5},
    )
    assert listed["metadata"] == {
        "resourceVersion": "42",
        "continue": "abc",
        "remainingItemCount": 5,
    }
    assert table_for("namespaces", [namespace])["metadata"] == {"resourceVersion": "7"}
    assert table_for("namespaces", [], list_metadata={"resourceVersion": "9"})["rows"] == []
    assert listed["kind"] == "Table"
    assert listed["apiVersion"] == "meta.k8s.io/v1"


def test_watch_events_after_the_first_omit_column_definitions() -> None:
    table = table_for("namespaces", [{"metadata": meta("a")}], no_headers=True)
    assert table["columnDefinitions"] is None
    assert table["rows"][0]["cells"][0] == "a"


def test_building_a_table_does_not_mutate_the_objects() -> None:
    obj = pod(phase="Running", containerStatuses=[running("nginx"), running("log")])
    before = copy.deepcopy(obj)
    table = table_for("pods", [obj], include_object="Object")
    table["rows"][0]["object"]["metadata"]["name"] = "changed"
    assert obj == before


# -- custom resources -------------------------------------------------------------------------


def widget_type(columns: list[dict[str, Any]] | None) -> ResourceType:
    version: dict[str, Any] = {"name": "v1", "served": True, "storage": True}
    if columns is not None:
        version["additionalPrinterColumns"] = columns
    crd = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": [version],
        },
    }
    return types_from_crd(crd)[0]


WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": meta("gear", 3600, labels={"app.kubernetes.io/name": "gears"}),
    "spec": {
        "replicas": 3,
        "ratio": 0.5,
        "paused": False,
        "ports": [{"name": "http"}, {"name": "grpc"}],
    },
    "status": {
        "conditions": [
            {"type": "Synced", "status": "True", "lastTransitionTime": ago(300)},
            {"type": "Ready", "status": "False", "lastTransitionTime": ago(90)},
        ],
        "observed": {"b": "<x>", "a": [1, 2.5]},
    },
}


def test_custom_resource_columns_follow_additional_printer_columns() -> None:
    columns: list[dict[str, Any]] = [
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {"name": "First", "type": "string", "jsonPath": ".status.conditions[0].type"},
        {"name": "Port", "type": "string", "jsonPath": ".spec.ports[*].name", "priority": 1},
        {"name": "App", "type": "string", "jsonPath": ".metadata.labels['app.kubernetes.io/name']"},
        {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "format": "float"},
        {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
        {
            "name": "Changed",
            "type": "date",
            "jsonPath": ".status.conditions[-1].lastTransitionTime",
        },
        {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    table = build_table(widget_type(columns), [WIDGET], now=NOW)
    assert printed(table, wide=True) == [
        [
            "NAME",
            "REPLICAS",
            "READY",
            "FIRST",
            "PORT",
            "APP",
            "RATIO",
            "PAUSED",
            "CHANGED",
            "MISSING",
            "AGE",
        ],
        ["gear", 3, "False", "Synced", "http", "gears", 0.5, False, "90s", None, "60m"],
    ]
    definitions = table["columnDefinitions"]
    assert definitions[4]["priority"] == 1
    assert definitions[6]["format"] == "float"
    assert definitions[1]["description"] == (
        "Custom resource definition column (in JSONPath format): .spec.replicas"
    )


def test_custom_resource_string_columns_print_objects_as_go_json() -> None:
    columns = [
        {"name": "Observed", "type": "string", "jsonPath": ".status.observed"},
        {"name": "Replicas", "type": "string", "jsonPath": ".spec.replicas"},
        {"name": "Bad", "type": "integer", "jsonPath": ".spec.paused"},
        {"name": "Invalid", "type": "date", "jsonPath": ".metadata.name"},
    ]
    cells = build_table(widget_type(columns), [WIDGET], now=NOW)["rows"][0]["cells"]
    assert cells == ["gear", '{"a":[1,2.5],"b":"\\u003cx\\u003e"}', "3", None, "<invalid>"]


def test_custom_resource_without_printer_columns_prints_name_and_age() -> None:
    table = build_table(widget_type(None), [WIDGET], now=NOW)
    assert printed(table) == [["NAME", "AGE"], ["gear", "60m"]]
    assert table["columnDefinitions"][1]["type"] == "date"
    assert build_table(widget_type(None), [], now=NOW)["rows"] == []


def test_unsupported_or_failing_paths_print_empty_cells() -> None:
    columns = [
        {"name": "Deep", "type": "string", "jsonPath": "..name"},
        {"name": "NotAList", "type": "string", "jsonPath": ".spec.replicas[0]"},
        {"name": "Mixed", "type": "string", "jsonPath": ".status.conditions[?(@.status==1)].type"},
    ]
    cells = build_table(widget_type(columns), [WIDGET], now=NOW)["rows"][0]["cells"]
    assert cells == ["gear", None, None, None]


# -- the JSONPath subset and Go formatting ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("{.spec.replicas}", [3]),
        ("$.spec.ports[*].name", ["http", "grpc"]),
        (".spec.ports[1:].name", ["grpc"]),
        (".spec.ports[5].name", []),
        (".status.conditions[?(@.lastTransitionTime)].type", ["Synced", "Ready"]),
        (".status.conditions[?(@.type != 'Ready')].status", ["True"]),
        (".metadata.labels.app\\.kubernetes\\.io/name", ["gears"]),
        (".status.observed.*", ["<x>", [1, 2.5]]),
    ],
)
def test_json_path_subset_finds_values(path: str, expected: list[Any]) -> None:
    assert find_json_path(parse_json_path(path), WIDGET) == expected


def test_json_path_rejects_syntax_outside_the_subset() -> None:
    for path in ("..name", ".a[", ".a[1,2]", ".a[?(@.b=~x)]"):
        with pytest.raises(JsonPathError):
            parse_json_path(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "<no value>"),
        (True, "true"),
        (12, "12"),
        (1.5, "1.5"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (0.00001, "1e-05"),
        ({"z": 1e21, "a": 1e-7}, '{"a":1e-7,"z":1e+21}'),
        (["a&b"], '["a\\u0026b"]'),
    ],
)
def test_go_print_matches_go_fmt_and_encoding_json(value: Any, expected: str) -> None:
    assert go_print(value) == expected

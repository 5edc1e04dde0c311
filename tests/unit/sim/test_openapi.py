"""The OpenAPI documents of the simulated API server: the shapes kubectl and clients rely on."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfed_local.sim import openapi
from kfed_local.sim.openapi_schemas import crd_schema_name
from kfed_local.sim.resources import ResourceRegistry, ResourceType, builtin_types, types_from_crd
from kfed_local.sim.schema import definitions

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A widget.",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "port": {
                    "x-kubernetes-int-or-string": True,
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                },
                "tags": {"type": "array", "items": {"type": "string"}, "nullable": True},
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def widget_crd(*, kind: str = "Widget", plural: str = "widgets") -> dict[str, Any]:
    return {
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas"}},
                    "schema": {"openAPIV3Schema": copy.deepcopy(WIDGET_SCHEMA)},
                }
            ],
        },
    }


def registry_with_widgets() -> ResourceRegistry:
    registry = ResourceRegistry()
    for resource_type in types_from_crd(widget_crd()):
        registry.add(resource_type)
    return registry


@pytest.fixture(scope="module")
def registry() -> ResourceRegistry:
    return registry_with_widgets()


@pytest.fixture(scope="module")
def v3_docs(registry: ResourceRegistry) -> dict[str, dict[str, Any]]:
    return openapi.openapi_v3_documents(registry)


@pytest.fixture(scope="module")
def v2_doc(registry: ResourceRegistry) -> dict[str, Any]:
    return openapi.openapi_v2(registry)


# Mappings from names to schemas: their keys are field names (JSONSchemaProps has fields named
# "$ref" and "type"), so the mapping itself is not a schema node.
NAME_MAPS = frozenset({"properties", "patternProperties", "schemas", "definitions", "paths"})


def walk(value: Any, path: str = "", *, names: bool = False) -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer-ish path, object node) pair inside a document."""
    if isinstance(value, Mapping):
        if not names:
            yield path, value
        for key, item in value.items():
            yield from walk(item, f"{path}/{key}", names=not names and key in NAME_MAPS)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}/{index}")


def refs(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(where, node["$ref"]) for where, node in walk(document) if "$ref" in node]


def schema_types(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``type`` values of schema nodes (skipping parameter/security objects named ``type``)."""
    for where, node in walk(document):
        if (
            "type" in node
            and "/securitySchemes/" not in where
            and "securityDefinitions" not in where
        ):
            yield where, node["type"]


def operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def reachable(document: Mapping[str, Any], prefix: str, store: Mapping[str, Any]) -> set[str]:
    """Names of the schemas reachable from the document's paths."""
    todo = [ref for _, ref in refs(document["paths"])]
    seen: set[str] = set()
    while todo:
        name = todo.pop().removeprefix(prefix)
        if name not in seen:
            seen.add(name)
            todo += [ref for _, ref in refs(store[name])]
    return seen


DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
CONFIGMAP = "/api/v1/namespaces/{namespace}/configmaps/{name}"
V3_PREFIX = "#/components/schemas/"


# -- references and schema conversion ------------------------------------------------------------


def test_every_ref_resolves_in_each_v3_document(v3_docs: dict[str, dict[str, Any]]) -> None:
    assert "apis/example.com/v1" in v3_docs
    for key, document in v3_docs.items():
        schemas = document["components"]["schemas"]
        found = refs(document)
        assert found, key
        for where, ref in found:
            assert ref.startswith(V3_PREFIX), (key, where, ref)
            assert ref.removeprefix(V3_PREFIX) in schemas, (key, where, ref)


def test_every_ref_resolves_in_the_v2_document(v2_doc: dict[str, Any]) -> None:
    for where, ref in refs(v2_doc):
        assert ref.startswith("#/definitions/"), (where, ref)
        assert ref.removeprefix("#/definitions/") in v2_doc["definitions"], (where, ref)


def test_v3_documents_hold_only_schemas_their_paths_reach(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    for key, document in v3_docs.items():
        schemas = document["components"]["schemas"]
        assert set(schemas) == reachable(document, V3_PREFIX, schemas), key
    apps = v3_docs["apis/apps/v1"]["components"]["schemas"]
    assert "io.k8s.api.core.v1.Service" not in apps
    assert "io.k8s.api.core.v1.PodSpec" in apps


def test_no_null_type_remains_anywhere(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    for document in [*v3_docs.values(), v2_doc]:
        for where, declared in schema_types(document):
            assert isinstance(declared, str), (where, declared)
            assert declared != "null", where
    assert "null" not in json.dumps(v2_doc["definitions"]["io.k8s.api.apps.v1.Deployment"])


def test_patch_merge_key_metadata_is_kept_on_pod_spec_containers(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    for schemas in (v3_docs["apis/apps/v1"]["components"]["schemas"], v2_doc["definitions"]):
        containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
        assert containers["x-kubernetes-patch-merge-key"] == "name"
        assert containers["x-kubernetes-patch-strategy"] == "merge"
        assert containers["x-kubernetes-list-type"] == "map"
        assert containers["x-kubernetes-list-map-keys"] == ["name"]
        assert containers["type"] == "array"
        assert containers["items"]["$ref"].endswith("/io.k8s.api.core.v1.Container")


def test_int_or_string_and_quantity_are_published_as_kube_apiserver_does(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    v3 = v3_docs["api/v1"]["components"]["schemas"]
    int_or_string = v3["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert int_or_string["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    quantity = v3["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["oneOf"] == [{"type": "string"}, {"type": "number"}]
    v2 = v2_doc["definitions"]
    assert v2["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "format": "int-or-string",
        "type": "string",
    }
    assert v2["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"


def test_described_refs_are_wrapped_in_all_of_in_v3_and_siblings_in_v2(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    spec_v3 = v3_docs["apis/apps/v1"]["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    spec_field = spec_v3["properties"]["spec"]
    assert "$ref" not in spec_field
    assert spec_field["allOf"] == [{"$ref": V3_PREFIX + "io.k8s.api.apps.v1.DeploymentSpec"}]
    assert spec_field["description"]
    spec_v2 = v2_doc["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]
    assert spec_v2["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    assert spec_v2["description"] == spec_field["description"]


def test_builtin_kinds_do_not_pin_api_version_and_kind(v3_docs: dict[str, dict[str, Any]]) -> None:
    deployment = v3_docs["apis/apps/v1"]["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["apiVersion"] == {
        "description": deployment["properties"]["apiVersion"]["description"],
        "type": "string",
    }
    assert "enum" not in deployment["properties"]["kind"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]


# -- paths and operations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "path", "method"),
    [
        ("apis/apps/v1", DEPLOYMENTS, "post"),
        ("apis/apps/v1", DEPLOYMENTS + "/{name}", "put"),
        ("apis/apps/v1", DEPLOYMENTS + "/{name}", "patch"),
        ("api/v1", "/api/v1/namespaces/{namespace}/configmaps", "post"),
        ("api/v1", CONFIGMAP, "put"),
        ("api/v1", CONFIGMAP, "patch"),
    ],
)
def test_field_validation_is_a_query_parameter_of_writes(
    v3_docs: dict[str, dict[str, Any]], key: str, path: str, method: str
) -> None:
    operation = v3_docs[key]["paths"][path][method]
    by_name = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert by_name["fieldValidation"]["in"] == "query"
    assert by_name["fieldValidation"]["schema"]["type"] == "string"
    assert {"dryRun", "fieldManager"} <= set(by_name)
    assert ("force" in by_name) == (method == "patch")


def test_every_patch_operation_offers_field_validation(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    # kubectl stops at the first PATCH operation of a kind, in map order: all must have it.
    patches = [op for doc in v3_docs.values() for _, m, op in operations(doc) if m == "patch"]
    patches += [op for _, method, op in operations(v2_doc) if method == "patch"]
    assert len(patches) > 20
    for operation in patches:
        names = {(p.get("name"), p.get("in")) for p in operation["parameters"]}
        assert ("fieldValidation", "query") in names, operation["operationId"]


def test_resource_operations_name_their_kind_and_action(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    deployment = {"group": "apps", "kind": "Deployment", "version": "v1"}
    item = v3_docs["apis/apps/v1"]["paths"][DEPLOYMENTS + "/{name}"]
    assert {
        method: op["x-kubernetes-action"] for method, op in item.items() if method != "parameters"
    } == {
        "delete": "delete",
        "get": "get",
        "patch": "patch",
        "put": "put",
    }
    for path, method, operation in operations(v3_docs["apis/apps/v1"]):
        if path == "/apis/apps/v1/":
            assert "x-kubernetes-group-version-kind" not in operation
            continue
        gvk = operation["x-kubernetes-group-version-kind"]
        assert isinstance(gvk, dict), (path, method)
        assert set(gvk) == {"group", "kind", "version"}
        if "/deployments" in path and not path.endswith("/scale"):
            assert gvk == deployment, (path, method)


def test_namespaced_resource_has_collection_item_subresource_and_watch_paths(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    paths = v3_docs["apis/apps/v1"]["paths"]
    expected = {
        DEPLOYMENTS: {"get", "post", "delete"},
        DEPLOYMENTS + "/{name}": {"get", "put", "patch", "delete"},
        DEPLOYMENTS + "/{name}/status": {"get", "put", "patch"},
        DEPLOYMENTS + "/{name}/scale": {"get", "put", "patch"},
        "/apis/apps/v1/deployments": {"get"},
        "/apis/apps/v1/watch/namespaces/{namespace}/deployments": {"get"},
        "/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}": {"get"},
        "/apis/apps/v1/watch/deployments": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) - {"parameters"} == methods, path
    collection = paths[DEPLOYMENTS]
    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    assert collection["post"]["requestBody"]["required"] is True
    assert collection["post"]["requestBody"]["content"]["*/*"]["schema"] == {
        "$ref": V3_PREFIX + "io.k8s.api.apps.v1.Deployment"
    }
    listed = collection["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": V3_PREFIX + "io.k8s.api.apps.v1.DeploymentList"}


def test_every_templated_path_parameter_is_declared_and_required(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    for document in [*v3_docs.values(), v2_doc]:
        for path, item in document["paths"].items():
            declared = {p["name"]: p for p in item.get("parameters", ()) if p["in"] == "path"}
            assert set(re.findall(r"{(\w+)}", path)) == set(declared), path
            assert all(p["required"] is True for p in declared.values()), path


def test_cluster_scoped_resources_have_no_namespace_in_their_paths(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    core = v3_docs["api/v1"]["paths"]
    assert set(core["/api/v1/namespaces/{name}/finalize"]) == {"put", "parameters"}
    assert "delete" not in core["/api/v1/namespaces"]  # namespaces have no deletecollection verb
    networking = v3_docs["apis/networking.k8s.io/v1"]["paths"]
    classes = [path for path in networking if "ingressclasses" in path]
    assert "/apis/networking.k8s.io/v1/ingressclasses/{name}" in classes
    assert all("{namespace}" not in path for path in classes)
    ingresses = [path for path in networking if "/ingresses" in path]
    assert "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}/status" in ingresses


def test_scale_subresource_speaks_autoscaling_scale(v3_docs: dict[str, dict[str, Any]]) -> None:
    scale = v3_docs["apis/apps/v1"]["paths"][DEPLOYMENTS + "/{name}/scale"]
    for method in ("get", "put", "patch"):
        assert scale[method]["x-kubernetes-group-version-kind"] == {
            "group": "autoscaling",
            "kind": "Scale",
            "version": "v1",
        }
    assert scale["put"]["requestBody"]["content"]["*/*"]["schema"] == {
        "$ref": V3_PREFIX + "io.k8s.api.autoscaling.v1.Scale"
    }
    assert scale["patch"]["operationId"] == "patchAppsV1NamespacedDeploymentScale"


def test_operation_ids_and_tags_follow_kube_apiserver_naming(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    def ids(key: str) -> set[str]:
        return {op["operationId"] for _, _, op in operations(v3_docs[key])}

    assert {
        "listAppsV1NamespacedDeployment",
        "listAppsV1DeploymentForAllNamespaces",
        "readAppsV1NamespacedDeploymentStatus",
        "watchAppsV1NamespacedDeploymentList",
        "getAppsV1APIResources",
    } <= ids("apis/apps/v1")
    assert {
        "deleteCoreV1CollectionNamespacedPod",
        "createCoreV1NamespacedPodEviction",
        "replaceCoreV1NamespaceFinalize",
    } <= ids("api/v1")
    assert "patchNetworkingV1IngressClass" in ids("apis/networking.k8s.io/v1")
    assert "patchExampleComV1NamespacedWidgetStatus" in ids("apis/example.com/v1")
    tags = {
        tag for _, _, op in operations(v3_docs["apis/networking.k8s.io/v1"]) for tag in op["tags"]
    }
    assert tags == {"networking_v1"}


def test_verbs_decide_which_operations_exist() -> None:
    read_only = ResourceType(
        group="example.com",
        version="v1",
        plural="gadgets",
        kind="Gadget",
        namespaced=False,
        verbs=("get", "list"),
    )
    document = openapi.openapi_v3_group_version(ResourceRegistry([read_only]), "example.com", "v1")
    assert document is not None
    methods = {(path, method) for path, method, _ in operations(document)}
    assert methods == {
        ("/apis/example.com/v1/", "get"),
        ("/apis/example.com/v1/gadgets", "get"),
        ("/apis/example.com/v1/gadgets/{name}", "get"),
    }


# -- custom resources ----------------------------------------------------------------------------


def test_crd_kind_is_published_in_its_group_version_document(
    v3_docs: dict[str, dict[str, Any]],
) -> None:
    document = v3_docs["apis/example.com/v1"]
    widget = document["components"]["schemas"]["com.example.v1.Widget"]
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]
    assert widget["type"] == "object"
    assert widget["properties"]["apiVersion"]["type"] == "string"
    assert widget["properties"]["kind"]["type"] == "string"
    assert widget["properties"]["metadata"]["allOf"] == [
        {"$ref": V3_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert widget["properties"]["spec"]["properties"]["port"]["x-kubernetes-int-or-string"]
    widget_list = document["components"]["schemas"]["com.example.v1.WidgetList"]
    assert widget_list["properties"]["items"]["items"] == {
        "$ref": V3_PREFIX + "com.example.v1.Widget"
    }
    assert widget_list["x-kubernetes-group-version-kind"][0]["kind"] == "WidgetList"
    patch = document["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Widget"


def test_crd_schema_in_v2_drops_what_swagger_cannot_say(v2_doc: dict[str, Any]) -> None:
    widget = v2_doc["definitions"]["com.example.v1.Widget"]
    spec = widget["properties"]["spec"]["properties"]
    assert spec["port"] == {"x-kubernetes-int-or-string": True}
    assert "nullable" not in spec["tags"]
    assert widget["properties"]["metadata"]["$ref"].endswith("meta.v1.ObjectMeta")


def test_crd_schema_of_the_caller_is_not_mutated() -> None:
    registry = registry_with_widgets()
    widget_type = registry.get("example.com", "v1", "widgets")
    assert widget_type is not None
    assert widget_type.schema is not None
    before = copy.deepcopy(dict(widget_type.schema.raw))
    openapi.openapi_v3_documents(registry)
    openapi.openapi_v2(registry)
    assert widget_type.schema.raw == before == WIDGET_SCHEMA


def test_custom_type_without_schema_preserves_unknown_fields() -> None:
    bare = ResourceType(
        group="example.com", version="v2", plural="things", kind="Thing", namespaced=True
    )
    registry = ResourceRegistry([*builtin_types(), bare])
    document = openapi.openapi_v3_group_version(registry, "example.com", "v2")
    assert document is not None
    thing = document["components"]["schemas"]["com.example.v2.Thing"]
    assert thing["x-kubernetes-preserve-unknown-fields"] is True
    assert set(thing["properties"]) == {"apiVersion", "kind", "metadata"}


@given(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=4))
def test_crd_schema_name_reverses_the_group(labels: list[str]) -> None:
    group = ".".join(labels)
    name = crd_schema_name(group, "v1beta1", "Widget")
    assert name == ".".join([*reversed(labels), "v1beta1", "Widget"])


# -- root, documents and hashes ------------------------------------------------------------------


def test_root_lists_every_group_version_and_discovery_path_with_hashed_urls(
    registry: ResourceRegistry, v3_docs: dict[str, dict[str, Any]]
) -> None:
    root = openapi.openapi_v3_root(registry)
    assert set(root) == {"paths"}
    keys = set(root["paths"])
    for group, versions in registry.group_versions().items():
        assert {openapi.v3_path_key(group, version) for version in versions} <= keys
    assert {"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/example.com/v1"} <= keys
    for key, entry in root["paths"].items():
        url = entry["serverRelativeURL"]
        assert re.fullmatch(rf"/openapi/v3/{re.escape(key)}\?hash=[0-9A-F]{{128}}", url), url
        assert url.endswith(openapi.document_hash(v3_docs[key]))
    assert openapi.openapi_v3_root(registry, documents=v3_docs) == root


def test_every_root_key_is_served_and_unknown_paths_are_not(
    registry: ResourceRegistry, v3_docs: dict[str, dict[str, Any]]
) -> None:
    for key, document in v3_docs.items():
        assert openapi.openapi_v3_document(registry, f"/{key}/") == document
        assert document["openapi"] == "3.0.0"
    assert v3_docs["apis/apps"]["paths"]["/apis/apps/"]["get"]["operationId"] == "getAppsAPIGroup"
    assert "/api/" in v3_docs["api"]["paths"]
    assert "/apis/" in v3_docs["apis"]["paths"]
    for unknown in ("apis/batch/v1", "apis/batch", "api/v2", "logs", "", "apis/apps/v1/extra"):
        assert openapi.openapi_v3_document(registry, unknown) is None
    assert openapi.openapi_v3_group_version(registry, "apps", "v2") is None


def test_v2_document_covers_every_served_path_as_swagger(
    v3_docs: dict[str, dict[str, Any]], v2_doc: dict[str, Any]
) -> None:
    assert v2_doc["swagger"] == "2.0"
    v3_paths = {path for document in v3_docs.values() for path in document["paths"]}
    assert set(v2_doc["paths"]) == v3_paths
    patch = v2_doc["paths"][DEPLOYMENTS + "/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    body = patch["parameters"][0]
    assert body == {
        "in": "body",
        "name": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"},
    }
    field_validation = [p for p in patch["parameters"] if p["name"] == "fieldValidation"]
    assert field_validation == [
        {**field_validation[0], "in": "query", "type": "string", "uniqueItems": True}
    ]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"


def test_hashes_are_stable_for_equal_registries_whatever_the_order() -> None:
    forward = registry_with_widgets()
    backward = ResourceRegistry([])
    for resource_type in reversed([*builtin_types(), *types_from_crd(widget_crd())]):
        backward.add(resource_type)
    assert openapi.openapi_v3_root(forward) == openapi.openapi_v3_root(backward)
    v2_hashes = {openapi.document_hash(openapi.openapi_v2(r)) for r in (forward, backward)}
    assert len(v2_hashes) == 1


def test_adding_a_crd_changes_only_the_hashes_it_concerns() -> None:
    registry = registry_with_widgets()
    before = openapi.openapi_v3_root(registry)["paths"]
    v2_before = openapi.document_hash(openapi.openapi_v2(registry))
    for resource_type in types_from_crd(widget_crd(kind="Gizmo", plural="gizmos")):
        registry.add(resource_type)
    after = openapi.openapi_v3_root(registry)["paths"]
    assert set(after) == set(before)
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {"apis/example.com/v1"}
    assert openapi.document_hash(openapi.openapi_v2(registry)) != v2_before
    plain = openapi.openapi_v3_root(ResourceRegistry())["paths"]
    assert "apis/example.com/v1" not in plain
    assert plain["apis/apps/v1"] == after["apis/apps/v1"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5))
def test_document_hash_ignores_key_order_and_is_upper_hex(document: dict[str, Any]) -> None:
    shuffled = dict(reversed(list(document.items())))
    digest = openapi.document_hash(document)
    assert digest == openapi.document_hash(shuffled)
    assert re.fullmatch(r"[0-9A-F]{128}", digest)
    assert openapi.document_hash({**document, "extra-key!": 1}) != digest


def test_each_call_returns_an_independent_document(registry: ResourceRegistry) -> None:
    first = openapi.openapi_v3_group_version(registry, "apps", "v1")
    assert first is not None
    first["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"].clear()
    first["paths"].clear()
    second = openapi.openapi_v3_group_version(registry, "apps", "v1")
    assert second is not None
    assert second["paths"]
    assert second["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert definitions()["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]

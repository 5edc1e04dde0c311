"""The API logic of one simulated cluster: what kube-apiserver does between HTTP and storage.

Layer: below the HTTP server and the controllers, above the store and the pure modules. Every
verb (create, get, list, update, patch, delete, watch) runs here with kube-apiserver's semantics:
name and namespace checks, defaulting, admission (allocations, namespace lifecycle), strict or
pruning field validation, semantic validation, optimistic concurrency, generation, managedFields,
status subresources and dry runs. Deletion (finalizers, graceful deletion, propagation) lives in
:mod:`kfed_local.sim.deletion`; kind-specific admission in :mod:`kfed_local.sim.admission`.

Controllers call the same methods the HTTP layer calls, so their writes follow the same rules and
reach watchers in the same way. Not thread-safe: runs on the cluster's event loop; every method is
synchronous and therefore atomic with respect to other requests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from kfed_local.sim import admission, errors, objects
from kfed_local.sim.apply import server_side_apply, update_managed_fields
from kfed_local.sim.bodies import check_kind, check_namespace_matches, decode_body
from kfed_local.sim.defaults import apply_defaults
from kfed_local.sim.deletion import pending_finalizers
from kfed_local.sim.errors import PatchError, SelectorError
from kfed_local.sim.patchdocs import PatchType, apply_patch_document, patch_failed
from kfed_local.sim.resources import ResourceRegistry, ResourceType
from kfed_local.sim.selectors import object_fields, parse_field_selector, parse_label_selector
from kfed_local.sim.store import ObjectStore, StoredObject
from kfed_local.sim.validation import check_structure, validate_object
from kfed_local.sim.writerules import (
    keep_unwritable,
    reset_for,
    semantically_equal,
    spec_changed,
    tracks_generation,
)

FieldValidation = Literal["Strict", "Warn", "Ignore"]

PATCH_CONTENT_TYPES: Mapping[str, PatchType] = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}

# Kinds that keep the status a client sends on create (kubelets register nodes with status).
_STATUS_ON_CREATE = frozenset({"/nodes", "/namespaces"})

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestContext:
    """Who writes and how: the field manager and the request's options."""

    field_manager: str
    manager_given: bool = True
    """False when the manager was derived from the User-Agent (apply needs an explicit one)."""
    dry_run: bool = False
    field_validation: FieldValidation = "Warn"
    user: str = "system:admin"


INTERNAL = RequestContext(field_manager="kube-controller-manager", field_validation="Ignore")
"""The context controllers write with unless they name their own manager."""


@dataclass(slots=True)
class WriteResult:
    """The outcome of a write: the object as stored (or as it would be, for a dry run)."""

    obj: dict[str, Any]
    created: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ListResult:
    """One page of a list."""

    items: list[StoredObject]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Selectors:
    """The label and field selectors of a list, watch or deletecollection."""

    label: str = ""
    field: str = ""


class ClusterApi:
    """kube-apiserver semantics over one cluster's :class:`ObjectStore`."""

    def __init__(
        self,
        store: ObjectStore,
        registry: ResourceRegistry,
        *,
        clock: Clock,
        allocator: admission.Allocator,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.allocator = allocator

    def now(self) -> str:
        """The current time as a Kubernetes timestamp."""
        return objects.rfc3339(self.clock())

    # -- reads ---------------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> StoredObject:
        """The object, or 404 NotFound."""
        entry = self.store.get(rt.storage_key, namespace if rt.namespaced else "", name)
        if entry is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return self._served(rt, entry)

    def _served(self, rt: ResourceType, entry: StoredObject) -> StoredObject:
        # Objects are stored in the version they were written in; one stored version per
        # resource, so no conversion is needed beyond the apiVersion each type declares.
        if entry.obj.get("apiVersion") == rt.api_version:
            return entry
        converted = dict(entry.obj)
        converted["apiVersion"] = rt.api_version
        return StoredObject(converted, entry.rv)

    def matcher(self, rt: ResourceType, selectors: Selectors) -> Callable[[dict[str, Any]], bool]:
        """A predicate for objects that match the selectors (400 if a selector is bad)."""
        try:
            labels = parse_label_selector(selectors.label) if selectors.label else None
            fields = parse_field_selector(selectors.field) if selectors.field else None
            if fields is not None:
                fields = fields.check_supported(
                    rt.group, rt.plural, namespaced=rt.namespaced, custom=rt.is_custom
                )
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from exc
        if labels is None and fields is None:
            return lambda obj: True

        def accepts(obj: dict[str, Any]) -> bool:
            if labels is not None and not labels.matches(objects.labels_of(obj)):
                return False
            return fields is None or fields.matches(
                object_fields(rt.group, rt.plural, obj, namespaced=rt.namespaced)
            )

        return accepts

    def list_objects(
        self,
        rt: ResourceType,
        namespace: str | None,
        selectors: Selectors = Selectors(),
        *,
        limit: int = 0,
        continue_token: str = "",
    ) -> ListResult:
        """Objects of one resource, filtered and optionally paged (``limit`` / ``continue``).

        Pages continue after the last key of the previous page in the current state (a
        simplification: kube-apiserver serves later pages from the first page's snapshot).
        """
        accepts = self.matcher(rt, selectors)
        entries = self.store.items(rt.storage_key, namespace if rt.namespaced else None)
        start_after: tuple[str, str] | None = None
        if continue_token:
            start_after = _decode_continue(continue_token)
            entries = [e for e in entries if objects.object_key_tuple(e.obj) > start_after]
        matching = [self._served(rt, e) for e in entries if accepts(e.obj)]
        rv = self.store.resource_version
        if limit and len(matching) > limit:
            page = matching[:limit]
            last = objects.object_key_tuple(page[-1].obj)
            return ListResult(page, rv, _encode_continue(last, rv), len(matching) - limit)
        return ListResult(matching, rv)

    # -- writes --------------------------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        body: Mapping[str, Any],
        ctx: RequestContext,
        *,
        subresource: str | None = None,
    ) -> WriteResult:
        """POST a new object (201), with generateName, defaults, admission and validation."""
        if subresource is not None:
            raise errors.method_not_allowed(f"create is not supported on {rt.plural}/{subresource}")
        return self._create(rt, namespace, decode_body(rt, body), ctx)

    def _create(
        self,
        rt: ResourceType,
        namespace: str,
        obj: dict[str, Any],
        ctx: RequestContext,
        *,
        managed_fields: list[dict[str, Any]] | None = None,
    ) -> WriteResult:
        meta = obj.setdefault("metadata", {})
        check_namespace_matches(rt, namespace, meta)
        if rt.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            meta["name"] = name = self._generated_name(rt, namespace, meta["generateName"])
        if rt.namespaced:
            admission.check_namespace_accepts(self, rt, namespace, name or "")
        result = WriteResult(obj)
        obj, result.warnings = self._structure(rt, obj, ctx.field_validation)
        meta = obj["metadata"]
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        if rt.subresources & {"status"} and rt.storage_key not in _STATUS_ON_CREATE:
            obj.pop("status", None)
        obj = apply_defaults(rt.group, rt.version, rt.kind, obj)
        obj = admission.admit_create(self, rt, obj, ctx)
        self._validate(rt, obj, None)
        if self.store.get(
            rt.storage_key, namespace if rt.namespaced else "", obj["metadata"]["name"]
        ):
            raise errors.already_exists(rt.plural, rt.group, obj["metadata"]["name"])
        now = self.now()
        meta = obj["metadata"]
        meta["uid"] = objects.new_uid()
        meta["creationTimestamp"] = now
        if tracks_generation(rt):
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if managed_fields is None:
            managed_fields = update_managed_fields(
                None,
                obj,
                manager=ctx.field_manager,
                schema=rt.schema,
                api_version=rt.api_version,
                now=now,
                reset=reset_for(rt, None),
            )
        meta["managedFields"] = managed_fields
        result.obj = obj
        result.created = True
        if not ctx.dry_run:
            self.allocator.commit(rt, obj)
            result.obj = self.store.put(rt.storage_key, obj).obj
        return result

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Mapping[str, Any],
        ctx: RequestContext,
        *,
        subresource: str | None = None,
    ) -> WriteResult:
        """PUT a whole object; a stale ``resourceVersion`` is a 409 Conflict."""
        if subresource is not None and subresource not in rt.subresources:
            raise errors.not_found(rt.plural, rt.group, f"{name}/{subresource}")
        obj = decode_body(rt, body)
        meta = obj.setdefault("metadata", {})
        check_namespace_matches(rt, namespace, meta)
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = namespace
        old = self.store.get(rt.storage_key, namespace if rt.namespaced else "", name)
        if old is None:
            if subresource is None and rt.storage_key in admission.CREATE_ON_UPDATE:
                return self._create(rt, namespace, obj, ctx)
            raise errors.not_found(rt.plural, rt.group, name)
        return self._replace(rt, old, obj, ctx, subresource=subresource)

    def _replace(
        self,
        rt: ResourceType,
        old: StoredObject,
        obj: dict[str, Any],
        ctx: RequestContext,
        *,
        subresource: str | None,
        managed_fields: list[dict[str, Any]] | None = None,
    ) -> WriteResult:
        """The shared tail of update, patch and apply on an existing object."""
        wanted_rv = (obj.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != old.obj["metadata"]["resourceVersion"]:
            raise errors.stale(rt.plural, rt.group, objects.name_of(old.obj))
        result = WriteResult(obj)
        obj, result.warnings = self._structure(rt, obj, ctx.field_validation)
        obj = keep_unwritable(rt, old.obj, obj, subresource)
        finalizers_wanted = obj  # apply_defaults returns a new dict and leaves this one alone
        # Admission defaults (service account, tolerations, priority) apply on create only.
        obj = apply_defaults(
            rt.group,
            rt.version,
            rt.kind,
            obj,
            service_account_admission=False,
            default_toleration_seconds=False,
            priority_admission=False,
        )
        if rt.storage_key == "/namespaces":
            # Only the finalize subresource changes a namespace's spec.finalizers (and defaulting,
            # which adds "kubernetes" to new namespaces, must not put it back).
            source = finalizers_wanted if subresource == "finalize" else old.obj
            obj.setdefault("spec", {})["finalizers"] = list(
                (source.get("spec") or {}).get("finalizers") or ()
            )
        obj = admission.admit_update(self, rt, old.obj, obj, ctx)
        self._validate(rt, obj, old.obj)
        meta = obj["metadata"]
        if tracks_generation(rt):
            generation = old.obj["metadata"].get("generation", 1)
            meta["generation"] = generation + 1 if spec_changed(old.obj, obj) else generation
        now = self.now()
        if managed_fields is None:
            managed_fields = update_managed_fields(
                old.obj,
                obj,
                manager=ctx.field_manager,
                schema=rt.schema,
                api_version=rt.api_version,
                now=now,
                subresource=subresource,
                reset=reset_for(rt, subresource),
            )
        meta["managedFields"] = managed_fields
        if not managed_fields:
            del meta["managedFields"]
        meta["resourceVersion"] = old.obj["metadata"]["resourceVersion"]
        if semantically_equal(old.obj, obj):
            # A no-op write does not bump the resourceVersion nor notify watchers.
            result.obj = old.obj
            return result
        result.obj = obj
        if ctx.dry_run:
            return result
        self.allocator.commit(rt, obj, old.obj)
        if objects.is_terminating(obj) and not pending_finalizers(obj):
            # The last finalizer went away: the object is gone now.
            self.store.put(rt.storage_key, obj)
            removed = self.store.remove(rt.storage_key, objects.namespace_of(obj), meta["name"])
            assert removed is not None
            self.allocator.release(rt, removed.obj)
            result.obj = removed.obj
            return result
        result.obj = self.store.put(rt.storage_key, obj).obj
        return result

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        patch_type: PatchType,
        body: bytes,
        ctx: RequestContext,
        *,
        subresource: str | None = None,
        force: bool = False,
    ) -> WriteResult:
        """PATCH with a JSON, merge, strategic merge or apply (server-side apply) patch."""
        if subresource is not None and subresource not in rt.subresources:
            raise errors.not_found(rt.plural, rt.group, f"{name}/{subresource}")
        key_ns = namespace if rt.namespaced else ""
        old = self.store.get(rt.storage_key, key_ns, name)
        if patch_type == "apply":
            return self._apply(rt, namespace, name, old, body, ctx, subresource, force)
        if old is None:
            raise errors.not_found(rt.plural, rt.group, name)
        current = objects.clone(self._served(rt, old).obj)
        patched = apply_patch_document(rt, name, patch_type, current, body)
        patched["metadata"]["name"] = name
        if rt.namespaced:
            patched["metadata"]["namespace"] = namespace
        return self._replace(rt, old, patched, ctx, subresource=subresource)

    def _apply(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        old: StoredObject | None,
        body: bytes,
        ctx: RequestContext,
        subresource: str | None,
        force: bool,
    ) -> WriteResult:
        try:
            config = objects.load_json_or_yaml(body)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"error decoding YAML: {exc}") from exc
        if not isinstance(config, dict):
            raise errors.bad_request("an apply patch must be an object")
        meta = config.get("metadata") or {}
        if meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({name})"
            )
        config.setdefault("metadata", {})["name"] = name
        if rt.namespaced:
            check_namespace_matches(rt, namespace, config["metadata"])
            config["metadata"]["namespace"] = namespace
        check_kind(rt, config)
        if not ctx.manager_given:
            raise errors.bad_request(
                "PATCH, fieldManager: Required value: is required for apply patch"
            )
        config, warnings = self._structure(rt, config, ctx.field_validation)
        if old is None and subresource is not None:
            raise errors.not_found(rt.plural, rt.group, name)
        live = None if old is None else self._served(rt, old).obj
        now = self.now()
        try:
            applied = server_side_apply(
                live,
                config,
                manager=ctx.field_manager,
                force=force,
                schema=rt.schema,
                api_version=rt.api_version,
                now=now,
                subresource=subresource,
                reset=reset_for(rt, subresource),
            )
        except PatchError as exc:
            raise patch_failed(rt, name, exc) from exc
        managed = applied["metadata"].get("managedFields", [])
        if old is None:
            result = self._create(rt, namespace, applied, ctx, managed_fields=managed)
        else:
            result = self._replace(
                rt, old, applied, ctx, subresource=subresource, managed_fields=managed
            )
        result.warnings[:0] = warnings
        return result

    # -- helpers -------------------------------------------------------------------------------

    def _structure(
        self, rt: ResourceType, obj: dict[str, Any], mode: FieldValidation
    ) -> tuple[dict[str, Any], list[str]]:
        if rt.schema is None:
            return obj, []
        checked = check_structure(obj, rt.schema, mode)
        if checked.errors:
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                + checked.render_errors()
            )
        return checked.obj, list(checked.warnings)

    def _validate(
        self, rt: ResourceType, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        problems = validate_object(rt, obj, old=old)
        if problems:
            raise errors.invalid(rt.kind, rt.group, objects.name_of(obj), problems)

    def _generated_name(self, rt: ResourceType, namespace: str, prefix: str) -> str:
        base = prefix[: 63 - 5] if len(prefix) > 58 else prefix
        for _ in range(16):
            candidate = base + objects.random_suffix()
            if (
                self.store.get(rt.storage_key, namespace if rt.namespaced else "", candidate)
                is None
            ):
                return candidate
        raise errors.ApiError(
            409, "AlreadyExists", f"could not find a free name for generateName {prefix!r}"
        )


def _encode_continue(last: tuple[str, str], rv: int) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(last)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = data["start"]
        return (str(namespace), str(name))
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request(f"continue key is not valid: {exc}") from exc

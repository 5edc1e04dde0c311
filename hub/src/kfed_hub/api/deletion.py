"""``DeleteOptions`` of a DELETE: the revision precondition and the propagation policy.

Layer: ``kfed_hub.api``, pure. Read from the body (a ``DeleteOptions`` object, as kubectl sends
it) or the query (``?propagationPolicy=Orphan``, ``?orphanDependents=true``); the body wins.

Policies, as kfed reads them: ``Background`` (the default) and ``Foreground`` delete the
federated object and remove it from every member cluster (kfed deletes nothing in the hub that
a foreground delete would wait for, so both behave alike); ``Orphan`` deletes the federated
object but leaves the member clusters' copies, released from kfed's management.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfed_hub.api import errors
from kfed_hub.api.errors import Cause

POLICIES = ("Foreground", "Background", "Orphan")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteOptions:
    """What a DELETE asks for."""

    expected_revision: int | None = None
    orphan: bool = False


def _invalid(field: str, value: Any, detail: str, *, reason: str = "FieldValueInvalid") -> Cause:
    kind = "Unsupported value" if reason == "FieldValueNotSupported" else "Invalid value"
    return Cause(
        reason=reason, message=f"{field}: {kind}: {json.dumps(value)}: {detail}", field=field
    )


def _refuse(cause: Cause) -> errors.ApiError:
    return errors.invalid("DeleteOptions", "", [cause], group="meta.k8s.io")


def _precondition(options: Mapping[str, Any]) -> int | None:
    preconditions = options.get("preconditions") or {}
    value = preconditions.get("resourceVersion") if isinstance(preconditions, Mapping) else None
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise errors.bad_request(
            f"preconditions.resourceVersion {str(value)!r} is not one this hub issued"
        ) from None


def _orphan_dependents(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _refuse(_invalid("orphanDependents", value, "must be true or false"))


def delete_options(body: Mapping[str, Any] | None, query: Mapping[str, str]) -> DeleteOptions:
    """The options of one DELETE; 422 for a policy kfed does not know or two that clash."""
    body = body or {}
    policy = body.get("propagationPolicy", query.get("propagationPolicy"))
    orphan_dependents = _orphan_dependents(
        body.get("orphanDependents", query.get("orphanDependents"))
    )
    if policy in ("", None):
        policy = None
    elif policy not in POLICIES:
        supported = ", ".join(f'"{p}"' for p in POLICIES)
        raise _refuse(
            _invalid(
                "propagationPolicy",
                policy,
                f"supported values: {supported}",
                reason="FieldValueNotSupported",
            )
        )
    if policy is not None and orphan_dependents is not None:
        raise _refuse(
            _invalid(
                "orphanDependents",
                orphan_dependents,
                "orphanDependents and propagationPolicy cannot be both set",
            )
        )
    orphan = policy == "Orphan" or orphan_dependents is True
    return DeleteOptions(expected_revision=_precondition(body), orphan=orphan)

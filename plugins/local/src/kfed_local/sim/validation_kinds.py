"""Validation rules of Pods and workloads (Deployments, ReplicaSets) for the simulated API server.

Layer: pure, a helper of :mod:`kfed_local.sim.validation` (its only caller, which owns the
public entry points). Each rule mirrors the hand-written Go validation kube-apiserver 1.37 runs
for one kind and returns :class:`~kfed_local.sim.errors.FieldError` values with the same paths,
values and details, in the same order. Rules read plain dicts defensively (a wrong type is the
decoder's business, not theirs), never mutate them and keep no state.

Label selector objects are matched here with a few lines of their own rather than through
``kfed_local.sim.selectors``: the layer contract keeps ``validation`` and ``selectors``
independent, and the semantics needed (``LabelSelectorAsSelector``) are small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfed_local.sim.errors import FieldError
from kfed_local.sim.names import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    is_valid_percent,
    is_valid_port_name,
    is_valid_port_num,
)
from kfed_local.sim.validation_common import (
    IMMUTABLE,
    PROTOCOLS,
    GoText,
    Rule,
    UpdateRule,
    annotations_errors,
    duplicate,
    forbidden,
    go_json,
    integer,
    invalid,
    labels_errors,
    mapping,
    nonnegative,
    not_supported,
    required,
    sequence,
    text,
)

_RESTART_POLICIES = ("Always", "OnFailure", "Never")

# -- label selector objects ---------------------------------------------------------------------


def _selector_errors(selector: Mapping[str, Any], path: str) -> list[FieldError]:
    """``ValidateLabelSelector`` (strict label values, as for workloads)."""
    errors = labels_errors(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expression in enumerate(sequence(selector.get("matchExpressions"))):
        expr = mapping(expression)
        at = f"{path}.matchExpressions[{i}]"
        operator = expr.get("operator")
        values = sequence(expr.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                errors.append(
                    required(f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.append(
                    forbidden(
                        f"{at}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errors.append(
                invalid(f"{at}.operator", text(operator), "not a valid selector operator")
            )
        key = text(expr.get("key"))
        errors.extend(invalid(f"{at}.key", key, msg) for msg in is_qualified_name(key))
        for j, value in enumerate(values):
            errors.extend(
                invalid(f"{at}.values[{j}]", value, msg)
                for msg in is_valid_label_value(text(value))
            )
    return errors


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """``LabelSelectorAsSelector(selector).Matches(labels)`` for a valid selector object.

    ``None`` matches nothing; a selector with no terms matches everything.
    """
    if selector is None:
        return False
    for key, value in mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in sequence(selector.get("matchExpressions")):
        expr = mapping(expression)
        key, values = text(expr.get("key")), sequence(expr.get("values"))
        present = key in labels
        operator = expr.get("operator")
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def selector_is_empty(selector: Mapping[str, Any]) -> bool:
    """True for ``{}``: no matchLabels and no matchExpressions."""
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_value(selector: Mapping[str, Any]) -> GoText:
    """A ``*metav1.LabelSelector`` rendered like Go (matchLabels first, empty parts omitted)."""
    shown: dict[str, Any] = {}
    if selector.get("matchLabels"):
        shown["matchLabels"] = dict(sorted(mapping(selector["matchLabels"]).items()))
    expressions = []
    for expression in sequence(selector.get("matchExpressions")):
        expr = mapping(expression)
        item: dict[str, Any] = {
            "key": text(expr.get("key")),
            "operator": text(expr.get("operator")),
        }
        if expr.get("values"):
            item["values"] = list(sequence(expr.get("values")))
        expressions.append(item)
    if expressions:
        shown["matchExpressions"] = expressions
    return GoText(go_json(shown))


# -- pods and pod templates ---------------------------------------------------------------------


def _container_ports(ports: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    names: set[str] = set()
    for i, raw in enumerate(sequence(ports)):
        port, at = mapping(raw), f"{path}[{i}]"
        name = text(port.get("name"))
        if name:
            problems = is_valid_port_name(name)
            if problems:
                errors.extend(invalid(f"{at}.name", name, msg) for msg in problems)
            elif name in names:
                errors.append(duplicate(f"{at}.name", name))
            else:
                names.add(name)
        number = integer(port.get("containerPort")) or 0
        if number == 0:
            errors.append(required(f"{at}.containerPort"))
        else:
            errors.extend(
                invalid(f"{at}.containerPort", number, m) for m in is_valid_port_num(number)
            )
        host = integer(port.get("hostPort")) or 0
        if host:
            errors.extend(invalid(f"{at}.hostPort", host, m) for m in is_valid_port_num(host))
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            errors.append(not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    return errors


def _containers(containers: Any, path: str, seen: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, raw in enumerate(sequence(containers)):
        container, at = mapping(raw), f"{path}[{i}]"
        name = text(container.get("name"))
        if not name:
            errors.append(required(f"{at}.name"))
        else:
            errors.extend(invalid(f"{at}.name", name, msg) for msg in is_dns1123_label(name))
        if not text(container.get("image")):
            errors.append(required(f"{at}.image"))
        errors.extend(_container_ports(container.get("ports"), f"{at}.ports"))
        if name in seen:
            errors.append(duplicate(f"{at}.name", name))
        seen.add(name)
    return errors


def pod_spec_errors(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """``ValidatePodSpec`` (containers, init containers, restart policy)."""
    errors: list[FieldError] = []
    names: set[str] = set()
    if not sequence(spec.get("containers")):
        errors.append(required(f"{path}.containers"))
    else:
        errors.extend(_containers(spec.get("containers"), f"{path}.containers", names))
    errors.extend(_containers(spec.get("initContainers"), f"{path}.initContainers", names))
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in _RESTART_POLICIES:
        errors.append(not_supported(f"{path}.restartPolicy", policy, _RESTART_POLICIES))
    return errors


def pod_errors(pod: Mapping[str, Any]) -> list[FieldError]:
    return pod_spec_errors(mapping(pod.get("spec")), "spec")


def _template_errors(
    template: Mapping[str, Any], selector: Mapping[str, Any] | None, path: str
) -> list[FieldError]:
    """``ValidatePodTemplateSpecForReplicaSet``."""
    errors: list[FieldError] = []
    meta = mapping(template.get("metadata"))
    labels = meta.get("labels")
    restricts = selector is None or not selector_is_empty(selector)
    if restricts and not selector_matches(selector, mapping(labels)):
        shown = dict(sorted(mapping(labels).items())) if labels else None
        errors.append(
            invalid(f"{path}.metadata.labels", shown, "`selector` does not match template `labels`")
        )
    # ValidatePodTemplateSpec checks template labels at "<path>.labels", not under metadata.
    errors.extend(labels_errors(labels, f"{path}.labels"))
    errors.extend(annotations_errors(meta.get("annotations"), f"{path}.annotations"))
    spec = mapping(template.get("spec"))
    errors.extend(pod_spec_errors(spec, f"{path}.spec"))
    policy = spec.get("restartPolicy")
    if policy is not None and policy != "Always":
        errors.append(not_supported(f"{path}.spec.restartPolicy", policy, ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        errors.append(
            forbidden(
                f"{path}.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            )
        )
    return errors


def _selector_and_template(spec: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    raw = spec.get("selector")
    selector = mapping(raw) if raw is not None else None
    if selector is None:
        errors.append(required("spec.selector"))
    else:
        problems = _selector_errors(selector, "spec.selector")
        errors.extend(problems)
        if selector_is_empty(selector):
            errors.append(
                invalid(
                    "spec.selector",
                    selector_value(selector),
                    "empty selector is invalid for deployment",
                )
            )
        if problems:
            # LabelSelectorAsSelector fails too, and the template is then not checked at all.
            errors.append(
                invalid("spec.selector", selector_value(selector), "invalid label selector")
            )
            return errors
    errors.extend(_template_errors(mapping(spec.get("template")), selector, "spec.template"))
    return errors


def _percent_or_int(value: Any) -> int:
    if isinstance(value, str):
        number = value[:-1] if value.endswith("%") else value
        return int(number) if number.isdigit() else 0
    return integer(value) or 0


def _strategy(strategy: Mapping[str, Any]) -> list[FieldError]:
    kind = strategy.get("type", "RollingUpdate")
    rolling = strategy.get("rollingUpdate")
    path = "spec.strategy"
    if kind == "Recreate":
        if rolling is not None:
            return [
                forbidden(
                    f"{path}.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if kind != "RollingUpdate":
        shown_rolling = None
        if rolling is not None:
            ru = mapping(rolling)
            shown_rolling = {
                "MaxUnavailable": ru.get("maxUnavailable", 0),
                "MaxSurge": ru.get("maxSurge", 0),
            }
        shown = GoText(go_json({"Type": kind, "RollingUpdate": shown_rolling}))
        return [not_supported(path, shown, ["Recreate", "RollingUpdate"])]
    if rolling is None:
        return []  # defaulting fills it in; the real server never sees it missing
    errors: list[FieldError] = []
    ru = mapping(rolling)
    for name in ("maxUnavailable", "maxSurge"):
        value = ru.get(name)
        at = f"{path}.rollingUpdate.{name}"
        if isinstance(value, str):
            errors.extend(invalid(at, value, msg) for msg in is_valid_percent(value))
        else:
            errors.extend(nonnegative(at, value))
    unavailable = ru.get("maxUnavailable")
    if _percent_or_int(unavailable) == 0 and _percent_or_int(ru.get("maxSurge")) == 0:
        errors.append(
            invalid(
                f"{path}.rollingUpdate.maxUnavailable",
                unavailable if unavailable is not None else 0,
                "may not be 0 when `maxSurge` is 0",
            )
        )
    if (
        isinstance(unavailable, str)
        and unavailable.endswith("%")
        and _percent_or_int(unavailable) > 100
    ):
        errors.append(
            invalid(
                f"{path}.rollingUpdate.maxUnavailable", unavailable, "must not be greater than 100%"
            )
        )
    return errors


def deployment_errors(deployment: Mapping[str, Any]) -> list[FieldError]:
    spec = mapping(deployment.get("spec"))
    errors = nonnegative("spec.replicas", spec.get("replicas"))
    errors.extend(_selector_and_template(spec))
    errors.extend(_strategy(mapping(spec.get("strategy"))))
    errors.extend(nonnegative("spec.minReadySeconds", spec.get("minReadySeconds")))
    errors.extend(nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit")))
    deadline = integer(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        errors.extend(nonnegative("spec.progressDeadlineSeconds", deadline))
        if deadline <= (integer(spec.get("minReadySeconds")) or 0):
            errors.append(
                invalid(
                    "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
                )
            )
    return errors


def replica_set_errors(replica_set: Mapping[str, Any]) -> list[FieldError]:
    spec = mapping(replica_set.get("spec"))
    errors = nonnegative("spec.replicas", spec.get("replicas"))
    errors.extend(nonnegative("spec.minReadySeconds", spec.get("minReadySeconds")))
    errors.extend(_selector_and_template(spec))
    return errors


def selector_immutable(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """apps/v1 forbids changing a Deployment's or ReplicaSet's selector."""
    new_selector = mapping(mapping(new.get("spec")).get("selector"))
    old_selector = mapping(mapping(old.get("spec")).get("selector"))
    new_value, old_value = selector_value(new_selector), selector_value(old_selector)
    # Compared in canonical form: Go's semantic equality treats nil and empty alike.
    if new_value.text == old_value.text:
        return []
    return [invalid("spec.selector", new_value, IMMUTABLE)]


KIND_RULES: Mapping[tuple[str, str], Rule] = {
    ("", "Pod"): pod_errors,
    ("apps", "Deployment"): deployment_errors,
    ("apps", "ReplicaSet"): replica_set_errors,
}
"""Create-and-update rules of the kinds in this module, per (group, kind)."""

UPDATE_RULES_LAST: Mapping[tuple[str, str], UpdateRule] = {
    ("apps", "Deployment"): selector_immutable,
    ("apps", "ReplicaSet"): selector_immutable,
}
"""Update rules kube-apiserver reports after the object's own errors."""

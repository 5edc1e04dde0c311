"""Deterministic GCE resource names and the ownership marks kfed puts on them.

Layer: pure helpers of the ``gcp`` provider (no I/O, no clock, no SDK). Every resource the
provider makes for a load balancer is named ``<kind>-<load balancer name>`` (NEGs add the
cluster), so a restarted hub computes the same names and finds what it made. GCE names are
``[a-z]([-a-z0-9]{0,61}[a-z0-9])?``: a name that had to be changed to fit (upper case, other
characters, too long) gets a short hash of the original, so two different load balancers never
collide on one truncated name.

Ownership lives in each resource's ``description`` as a small JSON object (every GCE resource
has a description; only addresses and forwarding rules also take labels), naming the owner, the
load balancer and the Ingress. :func:`read_mark` parses it back for ``owned()`` and before
touching anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

MAX_NAME = 63
OWNER_KEY = "kfed.io/owner"
LB_KEY = "kfed.io/lb"
INGRESS_KEY = "kfed.io/ingress"
CLUSTER_KEY = "kfed.io/cluster"
LABEL_OWNER = "kfed-owner"
"""Label keys may not hold ``.`` or ``/``, so labels use dashes where descriptions use paths."""
LABEL_LB = "kfed-lb"

_VALID = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_VALID = re.compile(r"[a-z0-9_-]{0,63}")
_HASH_LEN = 8

KINDS = {
    "address": "ip",
    "health_check": "hc",
    "neg": "neg",
    "backend_service": "bs",
    "url_map": "um",
    "http_proxy": "tp",
    "forwarding_rule": "fr",
    "firewall": "fw",
}
"""The short prefix of each kind of resource in its name."""


def short_hash(text: str) -> str:
    """Eight hex digits of sha256: enough to keep two truncated names apart."""
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_LEN]


def fit_name(*parts: str) -> str:
    """Join ``parts`` with dashes into a valid GCE name, unchanged when it already is one.

    A name that is not already valid is lowered, stripped of other characters and cut to
    leave room for ``-<hash of the original>``; the first part must start with a letter.
    """
    joined = "-".join(parts)
    if _VALID.fullmatch(joined):
        return joined
    cleaned = re.sub(r"[^a-z0-9-]+", "-", joined.lower())
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "k" + cleaned
    room = MAX_NAME - _HASH_LEN - 1
    return f"{cleaned[:room].rstrip('-')}-{short_hash(joined)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceNames:
    """The names of every global resource of one load balancer (NEGs: :meth:`neg`)."""

    lb: str
    address: str
    health_check: str
    backend_service: str
    url_map: str
    http_proxy: str
    forwarding_rule: str
    firewall: str

    def neg(self, cluster: str) -> str:
        """The zonal network endpoint group that holds ``cluster``'s endpoint."""
        return fit_name(KINDS["neg"], self.lb, cluster)


def names_for(lb: str) -> ResourceNames:
    """The deterministic resource names of load balancer ``lb``."""
    return ResourceNames(
        lb=lb,
        address=fit_name(KINDS["address"], lb),
        health_check=fit_name(KINDS["health_check"], lb),
        backend_service=fit_name(KINDS["backend_service"], lb),
        url_map=fit_name(KINDS["url_map"], lb),
        http_proxy=fit_name(KINDS["http_proxy"], lb),
        forwarding_rule=fit_name(KINDS["forwarding_rule"], lb),
        firewall=fit_name(KINDS["firewall"], lb),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    """kfed's ownership mark on one resource: who made it, for which load balancer."""

    owner: str
    lb: str
    ingress: str = ""
    cluster: str = ""


def write_mark(mark: Mark) -> str:
    """The ``description`` carrying ``mark`` (compact, keys sorted: equal marks, equal text)."""
    fields = {OWNER_KEY: mark.owner, LB_KEY: mark.lb, INGRESS_KEY: mark.ingress}
    if mark.cluster:
        fields[CLUSTER_KEY] = mark.cluster
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def read_mark(description: str | None) -> Mark | None:
    """The mark in a resource's ``description``, or None when kfed did not write one."""
    if not description or not description.startswith("{"):
        return None
    try:
        fields = json.loads(description)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    owner, lb = fields.get(OWNER_KEY), fields.get(LB_KEY)
    if not isinstance(owner, str) or not isinstance(lb, str) or not owner or not lb:
        return None
    ingress, cluster = fields.get(INGRESS_KEY, ""), fields.get(CLUSTER_KEY, "")
    return Mark(
        owner=owner,
        lb=lb,
        ingress=ingress if isinstance(ingress, str) else "",
        cluster=cluster if isinstance(cluster, str) else "",
    )


def label_value(text: str) -> str:
    """``text`` as a GCE label value (``[a-z0-9_-]``, at most 63), hashed when changed."""
    if _LABEL_VALID.fullmatch(text):
        return text
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", text.lower())
    return f"{cleaned[: MAX_NAME - _HASH_LEN - 1]}-{short_hash(text)}"


def labels_for(mark: Mark) -> dict[str, str]:
    """Labels for resources that take them (addresses, forwarding rules): a second mark that
    the console and ``gcloud --filter`` can search."""
    return {LABEL_OWNER: label_value(mark.owner), LABEL_LB: label_value(mark.lb)}

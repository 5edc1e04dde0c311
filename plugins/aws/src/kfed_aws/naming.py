"""Deterministic names, idempotency tokens and ownership marks of the AWS provider.

Layer: ``kfed_aws`` pure helpers (no I/O, no clock, no randomness). Everything kfed makes in
AWS is found again from :attr:`GlobalLoadBalancer.name` and the provider's owner id alone, so
a restarted hub adopts instead of duplicating: the accelerator by its tags (Global Accelerator
names need not be unique, so the name is for people and the tags are the truth), its listener
and endpoint groups as its children (they cannot be tagged), the Route 53 record by a TXT
record beside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

TAG_OWNER = "kfed.io/owner"
"""The load balancer's name (:attr:`GlobalLoadBalancer.name`)."""
TAG_INGRESS = "kfed.io/ingress"
"""The federated Ingress's key (``namespace/name``)."""
TAG_MANAGED_BY = "kfed.io/managed-by"
"""The provider's owner id: which kfed provider (hub, account) manages the accelerator."""
TAG_DNS_ZONE = "kfed.io/dns-zone"
TAG_DNS_NAME = "kfed.io/dns-name"
"""Where kfed keeps a Route 53 record for the accelerator ("" for none), so delete finds it."""

MAX_NAME = 64
_TAG_VALUE = re.compile(r"[^A-Za-z0-9 _.:/=+\-@]")


def accelerator_name(lb_name: str) -> str:
    """The accelerator's Name: at most 64 letters, digits, periods or hyphens, neither first
    nor last a hyphen or period; cut down with a hash of the whole name when it does not fit."""
    clean = re.sub(r"[^A-Za-z0-9.-]+", "-", lb_name)
    clean = re.sub(r"-{2,}", "-", clean).strip("-.") or "kfed"
    if clean == lb_name and len(clean) <= MAX_NAME:
        return clean
    digest = hashlib.sha256(lb_name.encode()).hexdigest()[:8]
    head = clean[: MAX_NAME - len(digest) - 1].rstrip("-.")
    return f"{head}-{digest}" if head else digest


def idempotency_token(*parts: str) -> str:
    """A token that is the same for the same request (a retried create returns the first
    one's resource instead of making a second) and differs for a different one."""
    return hashlib.sha256("\x00".join(("kfed", *parts)).encode()).hexdigest()[:64]


def tag_value(value: str) -> str:
    """``value`` made a valid tag value (at most 256 of the characters AWS allows)."""
    return _TAG_VALUE.sub("_", value)[:256]


def accelerator_tags(
    *, owner_id: str, lb_name: str, ingress: str, dns_zone: str = "", dns_name: str = ""
) -> dict[str, str]:
    """The tags that mark an accelerator as kfed's, and say where its DNS record is."""
    return {
        TAG_MANAGED_BY: tag_value(owner_id),
        TAG_OWNER: tag_value(lb_name),
        TAG_INGRESS: tag_value(ingress),
        TAG_DNS_ZONE: tag_value(dns_zone),
        TAG_DNS_NAME: tag_value(dns_name),
    }


def is_ours(tags: Mapping[str, str], owner_id: str, lb_name: str | None = None) -> bool:
    """Whether ``tags`` mark an accelerator made by this provider (for ``lb_name``, if given)."""
    if tags.get(TAG_MANAGED_BY) != tag_value(owner_id):
        return False
    return lb_name is None or tags.get(TAG_OWNER) == tag_value(lb_name)


def owner_record_name(hostname: str) -> str:
    """The TXT record that marks ``hostname``'s record as kfed's (a CNAME may not share its
    name with other records, so the mark lives beside it, as ExternalDNS does)."""
    return f"_kfed-owner.{hostname}"


def owner_record_value(owner_id: str, lb_name: str) -> str:
    """The TXT value naming the owner; quoted, as Route 53 wants TXT values."""
    return f'"heritage=kfed,{TAG_MANAGED_BY}={tag_value(owner_id)},{TAG_OWNER}={lb_name}"'

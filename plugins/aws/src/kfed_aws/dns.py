"""The optional Route 53 record that gives an accelerator a friendly host name.

Layer: ``kfed_aws`` I/O shell, used by :mod:`kfed_aws.provider` (through the small
:class:`Caller` Protocol, which retries and translates errors). When a load balancer's options
name a ``hostname`` (and a ``hostedZoneId``), kfed UPSERTs a CNAME from it to the accelerator's
DNS name, beside a TXT record ``_kfed-owner.<hostname>`` that names the owner. kfed changes or
deletes a host name's records only when that TXT record names this provider and load balancer,
so it never takes over or removes a record someone else made.

A CNAME cannot sit at a zone's apex; use a name inside the zone (``www.example.com``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from kfed_aws.api import AwsApi, DnsRecord
from kfed_aws.errors import AwsApiError
from kfed_aws.naming import owner_record_name, owner_record_value
from kfed_aws.settings import AwsSettings
from kfed_core.providers import ProviderError

T = TypeVar("T")


class Caller(Protocol):
    """What this module needs of the provider: its settings, its API and a retrying call."""

    @property
    def settings(self) -> AwsSettings: ...

    @property
    def api(self) -> AwsApi: ...

    async def call(
        self, doing: str, call: Callable[[], Awaitable[T]], *, missing_ok: bool = False
    ) -> T | None: ...

    async def must(self, doing: str, call: Callable[[], Awaitable[T]]) -> T: ...


async def ensure_record(
    caller: Caller, *, zone: str, hostname: str, ttl: int, target: str, lb_name: str
) -> None:
    """Point ``hostname`` at ``target`` unless it already does; refuse a record kfed did not
    make (retryable=False: an operator must delete it or choose another host name)."""
    where = f"load balancer {lb_name}: Route 53 zone {zone}, {hostname}"
    mark = DnsRecord(
        name=owner_record_name(hostname),
        type="TXT",
        ttl=ttl,
        values=(owner_record_value(caller.settings.owner_id, lb_name),),
    )
    want = DnsRecord(name=hostname, type="CNAME", ttl=ttl, values=(target,))
    marks = await caller.must(
        f"{where}: reading its owner record",
        lambda: caller.api.get_records(zone, mark.name),
    )
    existing = await caller.must(
        f"{where}: reading its records", lambda: caller.api.get_records(zone, hostname)
    )
    ours = any(mark.values[0] in record.values for record in marks)
    if (existing or marks) and not ours:
        kinds = ", ".join(sorted({r.type for r in existing + marks}))
        raise ProviderError(
            f"{where}: the zone already has {kinds} records there that kfed did not make (no "
            f"TXT {mark.name} naming this load balancer); delete them or choose another "
            "hostname",
            retryable=False,
        )
    cnames = [r for r in existing if r.type == "CNAME"]
    if ours and len(cnames) == 1 and _same(cnames[0], want) and _same(marks[0], mark):
        return
    await caller.call(
        f"{where}: writing its CNAME to {target}",
        lambda: caller.api.change_records(zone, [("UPSERT", mark), ("UPSERT", want)]),
    )


async def delete_record(caller: Caller, *, zone: str, hostname: str, lb_name: str) -> None:
    """Delete ``hostname``'s CNAME and owner record if they are this load balancer's; a zone or
    record that is gone counts as deleted."""
    where = f"load balancer {lb_name}: Route 53 zone {zone}, {hostname}"
    value = owner_record_value(caller.settings.owner_id, lb_name)
    marks = await caller.call(
        f"{where}: reading its owner record",
        lambda: caller.api.get_records(zone, owner_record_name(hostname)),
        missing_ok=True,
    )
    ours = [r for r in marks or [] if value in r.values]
    if not ours:
        return  # never made, already deleted, or someone else's: leave it
    existing = await caller.must(
        f"{where}: reading its records", lambda: caller.api.get_records(zone, hostname)
    )
    changes = [("DELETE", r) for r in existing if r.type == "CNAME"] + [("DELETE", r) for r in ours]
    try:
        await caller.call(
            f"{where}: deleting its records",
            lambda: caller.api.change_records(zone, changes),
        )
    except ProviderError as e:
        cause = e.__cause__
        if (
            isinstance(cause, AwsApiError)
            and cause.code == "InvalidChangeBatch"
            and "not found" in cause.detail.lower()
        ):
            return  # deleted by someone else between our read and our change
        raise


def _same(have: DnsRecord, want: DnsRecord) -> bool:
    def norm(values: tuple[str, ...]) -> list[str]:
        return sorted(v.lower().rstrip(".") for v in values)

    return have.ttl == want.ttl and norm(have.values) == norm(want.values)

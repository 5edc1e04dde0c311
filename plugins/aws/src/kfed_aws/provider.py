"""The ``aws`` ingress provider: one Global Accelerator per federated Ingress.

Layer: ``kfed_aws`` I/O shell; implements :class:`kfed_core.providers.IngressProvider` on top
of the :class:`kfed_aws.api.AwsApi` seam (boto3 lives behind it, in :mod:`kfed_aws.aws_client`).
Decisions come from the pure modules (:mod:`~kfed_aws.planning`, :mod:`~kfed_aws.naming`,
:mod:`~kfed_aws.errors`); this module sequences the calls, retries them
(:mod:`~kfed_aws.retry`) and waits where AWS makes kfed wait. It keeps nothing about the cloud
in memory between calls: the accelerator is found by its tags every time, so a restarted hub
adopts what the last one made.

Order of creation: accelerator, TCP listener, one endpoint group per region, then the
optional Route 53 record (:mod:`kfed_aws.dns`). Deletion runs the other way and ends with
disable, wait until DEPLOYED, delete, because Global Accelerator refuses to delete an enabled
or deploying accelerator.

Concurrency: call it from one event loop. Calls for one load balancer name are serialised by a
lock, so a retried ``ensure`` cannot race a ``delete`` of the same name.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from kfed_aws import dns
from kfed_aws.api import DEPLOYED, Accelerator, AwsApi, EndpointGroup, Listener, LoadBalancerRef
from kfed_aws.errors import AwsApiError, provider_error
from kfed_aws.naming import (
    TAG_DNS_NAME,
    TAG_DNS_ZONE,
    TAG_OWNER,
    accelerator_name,
    accelerator_tags,
    idempotency_token,
    is_ours,
)
from kfed_aws.planning import diff_groups, is_aws_region, place_backends, summarise
from kfed_aws.retry import call_with_retry
from kfed_aws.settings import AwsSettings, LbOptions, lb_options
from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError

T = TypeVar("T")


class AwsProvider:
    """Global load balancers as AWS Global Accelerators in front of the clusters' NLBs/ALBs.

    ``sleep``, ``clock`` and ``jitter`` drive retries and waiting; tests may replace them.
    """

    def __init__(
        self,
        settings: AwsSettings,
        api: AwsApi,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self._api = api
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._locks: dict[str, asyncio.Lock] = {}

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        """Converge the accelerator for ``desired``; its DNS name is the global address."""
        _check(desired)
        options = lb_options(self.settings, desired.name, desired.options)
        async with self._lock(desired.name):
            return await self._ensure(desired, options)

    async def delete(self, name: str) -> None:
        """Delete the Route 53 record, endpoint groups, listener and accelerator of ``name``."""
        async with self._lock(name):
            for accelerator, tags in await self._find(name):
                where = f"load balancer {name} (accelerator {accelerator.arn})"
                zone, host = tags.get(TAG_DNS_ZONE, ""), tags.get(TAG_DNS_NAME, "")
                if zone and host:
                    await dns.delete_record(self, zone=zone, hostname=host, lb_name=name)
                listeners = await self.call(
                    f"{where}: listing its listeners",
                    partial(self._api.list_listeners, accelerator.arn),
                    missing_ok=True,
                )
                for listener in listeners or []:
                    await self._delete_listener(where, listener)
                await self._retire(where, accelerator)

    async def owned(self) -> list[str]:
        """Names of the load balancers whose accelerators carry this provider's tags."""
        names: set[str] = set()
        for accelerator in await self.must("listing accelerators", self._api.list_accelerators):
            tags = await self.call(
                f"reading the tags of accelerator {accelerator.arn}",
                partial(self._api.list_tags, accelerator.arn),
                missing_ok=True,
            )
            if tags is not None and is_ours(tags, self.settings.owner_id):
                names.add(tags.get(TAG_OWNER, ""))
        return sorted(names - {""})

    async def close(self) -> None:
        """Close the SDK's connections; deletes nothing."""
        await self._api.close()

    @property
    def api(self) -> AwsApi:
        """The AWS seam this provider calls (for :mod:`kfed_aws.dns`)."""
        return self._api

    async def call(
        self, doing: str, call: Callable[[], Awaitable[T]], *, missing_ok: bool = False
    ) -> T | None:
        """``call()`` with retries; None when ``missing_ok`` and AWS says it does not exist;
        any other failure as a ProviderError saying it happened while ``doing``."""
        try:
            return await self._retrying(call)
        except AwsApiError as e:
            if missing_ok and e.not_found:
                return None
            raise provider_error(doing, e) from e

    async def must(self, doing: str, call: Callable[[], Awaitable[T]]) -> T:
        """:meth:`call` for results that cannot be absent."""
        result = await self.call(doing, call)
        assert result is not None  # only missing_ok calls answer None
        return result

    async def _ensure(self, desired: GlobalLoadBalancer, options: LbOptions) -> LoadBalancerStatus:
        where = f"load balancer {desired.name} (Ingress {desired.ingress})"
        found: dict[str, list[LoadBalancerRef]] = {}
        for region in sorted({b.region for b in desired.backends if is_aws_region(b.region)}):
            found[region] = await self.must(
                f"{where}: listing the ELBv2 load balancers of {region}",
                partial(self._api.load_balancers, region),
            )
        placement = place_backends(desired.backends, found, desired.port)

        accelerator, duplicates = await self._accelerator(desired, options, where)
        where = f"{where}, accelerator {accelerator.arn}"
        listener = await self._listener(accelerator, desired.port, options, where)
        groups = await self.must(
            f"{where}: listing its endpoint groups",
            lambda: self._api.list_endpoint_groups(listener.arn),
        )
        changes = diff_groups(groups, placement.groups, desired.port)
        for arn in changes.delete:
            await self.call(
                f"{where}: deleting endpoint group {arn}",
                partial(self._api.delete_endpoint_group, arn),
                missing_ok=True,
            )
        for arn, spec in changes.update:
            await self.must(
                f"{where}: updating the endpoint group of {spec.region}",
                partial(self._api.update_endpoint_group, arn, spec, listener_port=desired.port),
            )
        for spec in changes.create:
            token = idempotency_token(listener.arn, spec.region, repr(spec))
            await self.must(
                f"{where}: creating the endpoint group of {spec.region}",
                partial(
                    self._api.create_endpoint_group,
                    listener.arn,
                    spec,
                    listener_port=desired.port,
                    token=token,
                ),
            )
        if not changes.empty:
            groups = await self.must(
                f"{where}: listing its endpoint groups",
                lambda: self._api.list_endpoint_groups(listener.arn),
            )

        if options.hostname and options.hosted_zone_id:
            await dns.ensure_record(
                self,
                zone=options.hosted_zone_id,
                hostname=options.hostname,
                ttl=options.dns_ttl,
                target=accelerator.dns_name,
                lb_name=desired.name,
            )
        accelerator = await self.must(
            f"{where}: reading its status",
            lambda: self._api.describe_accelerator(accelerator.arn),
        )
        ready, message = summarise(accelerator, groups, desired.backends, placement)
        if options.hostname:
            message += f"; Route 53 {options.hostname} points at {accelerator.dns_name}"
        if duplicates:
            message += (
                f"; {duplicates} more accelerator(s) carry this load balancer's tags and are "
                "left alone; deleting the Ingress removes them all"
            )
        return LoadBalancerStatus(address=accelerator.dns_name, ready=ready, message=message)

    async def _accelerator(
        self, desired: GlobalLoadBalancer, options: LbOptions, where: str
    ) -> tuple[Accelerator, int]:
        tags = accelerator_tags(
            owner_id=self.settings.owner_id,
            lb_name=desired.name,
            ingress=desired.ingress,
            dns_zone=options.hosted_zone_id or "",
            dns_name=options.hostname or "",
        )
        mine = await self._find(desired.name)
        if not mine:
            token = idempotency_token(self.settings.owner_id, desired.name)
            created = await self.must(
                f"{where}: creating its accelerator",
                lambda: self._api.create_accelerator(
                    name=accelerator_name(desired.name), token=token, tags=tags
                ),
            )
            return created, 0
        accelerator, old = mine[0]
        old_zone, old_host = old.get(TAG_DNS_ZONE, ""), old.get(TAG_DNS_NAME, "")
        if (
            old_zone
            and old_host
            and (old_zone, old_host) != (tags[TAG_DNS_ZONE], tags[TAG_DNS_NAME])
        ):
            await dns.delete_record(self, zone=old_zone, hostname=old_host, lb_name=desired.name)
        if any(old.get(key) != value for key, value in tags.items()):
            await self.call(
                f"{where}: tagging accelerator {accelerator.arn}",
                lambda: self._api.tag_accelerator(accelerator.arn, tags),
            )
        if not accelerator.enabled:  # a delete that stopped half-way; the Ingress is wanted again
            accelerator = await self.must(
                f"{where}: enabling accelerator {accelerator.arn}",
                lambda: self._api.update_accelerator(accelerator.arn, enabled=True),
            )
        return accelerator, len(mine) - 1

    async def _listener(
        self, accelerator: Accelerator, port: int, options: LbOptions, where: str
    ) -> Listener:
        listeners = await self.must(
            f"{where}: listing its listeners",
            lambda: self._api.list_listeners(accelerator.arn),
        )
        wanted = ((port, port),)
        listeners.sort(key=lambda item: (item.port_ranges != wanted, item.arn))
        for extra in listeners[1:]:  # kfed makes one; any other is drift to remove
            await self._delete_listener(where, extra)
        if not listeners:
            token = idempotency_token(accelerator.arn, str(port))
            return await self.must(
                f"{where}: creating its TCP listener on port {port}",
                lambda: self._api.create_listener(
                    accelerator.arn,
                    port=port,
                    client_affinity=options.client_affinity,
                    token=token,
                ),
            )
        listener = listeners[0]
        if (listener.port_ranges, listener.protocol, listener.client_affinity) != (
            wanted,
            "TCP",
            options.client_affinity,
        ):
            listener = await self.must(
                f"{where}: updating listener {listener.arn} to TCP port {port}",
                lambda: self._api.update_listener(
                    listener.arn, port=port, client_affinity=options.client_affinity
                ),
            )
        return listener

    async def _find(self, name: str) -> list[tuple[Accelerator, dict[str, str]]]:
        """This provider's accelerators for ``name``, oldest ARN first, with their tags."""
        mine: list[tuple[Accelerator, dict[str, str]]] = []
        listed = await self.must("listing accelerators", self._api.list_accelerators)
        for accelerator in sorted(listed, key=lambda a: a.arn):
            if accelerator.name != accelerator_name(name):
                continue
            tags = await self.call(
                f"reading the tags of accelerator {accelerator.arn}",
                partial(self._api.list_tags, accelerator.arn),
                missing_ok=True,
            )
            if tags is not None and is_ours(tags, self.settings.owner_id, name):
                mine.append((accelerator, tags))
        return mine

    async def _delete_listener(self, where: str, listener: Listener) -> None:
        groups: list[EndpointGroup] | None = await self.call(
            f"{where}: listing the endpoint groups of listener {listener.arn}",
            lambda: self._api.list_endpoint_groups(listener.arn),
            missing_ok=True,
        )
        for group in groups or []:
            await self.call(
                f"{where}: deleting endpoint group {group.arn}",
                partial(self._api.delete_endpoint_group, group.arn),
                missing_ok=True,
            )
        await self.call(
            f"{where}: deleting listener {listener.arn}",
            lambda: self._api.delete_listener(listener.arn),
            missing_ok=True,
        )

    async def _retire(self, where: str, accelerator: Accelerator) -> None:
        """Disable, wait until deployed, delete; AcceleratorNotFound at any point is done."""
        deadline = self._clock() + self.settings.delete_timeout
        current: Accelerator | None = accelerator
        while current is not None:
            if current.enabled:
                current = await self.call(
                    f"{where}: disabling the accelerator before deleting it",
                    lambda: self._api.update_accelerator(accelerator.arn, enabled=False),
                    missing_ok=True,
                )
            elif current.status == DEPLOYED:
                try:
                    await self._retrying(lambda: self._api.delete_accelerator(accelerator.arn))
                    return
                except AwsApiError as e:
                    if e.not_found:
                        return
                    if e.code != "AcceleratorNotDisabledException":
                        raise provider_error(f"{where}: deleting the accelerator", e) from e
                    # It went back to deploying between our read and the delete: wait again.
                current = await self._poll(where, accelerator.arn, deadline)
            else:
                current = await self._poll(where, accelerator.arn, deadline)

    async def _poll(self, where: str, arn: str, deadline: float) -> Accelerator | None:
        if self._clock() >= deadline:
            raise ProviderError(
                f"{where}: the disabled accelerator is still deploying after "
                f"{self.settings.delete_timeout:g} s, so it cannot be deleted yet; kfed tries "
                "again on its next pass (raise deleteTimeout to wait longer)",
                retryable=True,
            )
        await self._sleep(self.settings.poll_interval)
        return await self.call(
            f"{where}: reading its status",
            lambda: self._api.describe_accelerator(arn),
            missing_ok=True,
        )

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(
            call, self.settings.retry, sleep=self._sleep, clock=self._clock, jitter=self._jitter
        )

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())


def _check(desired: GlobalLoadBalancer) -> None:
    problems: list[str] = []
    if not desired.name:
        problems.append("the load balancer has no name")
    if not 0 < desired.port < 65536:
        problems.append(f"port {desired.port} is not a TCP port (1-65535)")
    seen: set[str] = set()
    for backend in desired.backends:
        if backend.cluster in seen:
            problems.append(f"cluster {backend.cluster} is listed twice")
        seen.add(backend.cluster)
    if problems:
        raise ProviderError(
            f"load balancer {desired.name or '?'} (Ingress {desired.ingress}): "
            + "; ".join(problems)
            + "; this is a bug in what the hub asked for",
            retryable=False,
        )

"""The fake Global Accelerator's state and operations, answered as the real API answers.

Layer: ``kfed_aws.fake`` model (no sockets: :mod:`kfed_aws.fake.ga_server` puts it on HTTP).
Operations take and return the JSON bodies of the real JSON 1.1 API
(``X-Amz-Target: GlobalAccelerator_V20180706.<Operation>``) and raise
:class:`~kfed_aws.fake.ga_checks.FakeAwsError` with the real error codes.

What it models: accelerators, listeners and endpoint groups with real ARN shapes; tags on
accelerators; idempotency tokens (the same token returns the resource it made while that still
exists); pagination (10 per page unless MaxResults); ``Status`` IN_PROGRESS after every change,
turning DEPLOYED after ``settle_polls`` reads of the accelerator (and endpoints' HealthState
INITIAL turning HEALTHY then); referential integrity (no deleting an enabled or deploying
accelerator, nor a parent with children); and injected faults for the next calls. All methods
are thread-safe (one lock), so tests may inspect it while a server answers from another thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_aws.fake.ga_checks import (
    FakeAwsError,
    check_choice,
    check_dial,
    check_endpoints,
    check_name,
    check_port_overrides,
    check_port_ranges,
    check_region,
    check_tags,
    listener_ranges,
    overlaps,
    page,
    required,
)

ACCOUNT = "123456789012"
MAX_ACCELERATORS = 20
MAX_LISTENERS = 10

Json = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class _Fault:
    code: str
    status: int
    message: str
    remaining: int
    operation: str | None
    after: bool


class FakeGlobalAccelerator:
    """An in-memory Global Accelerator. ``handle(operation, body)`` answers one API call."""

    def __init__(self, *, settle_polls: int = 2, page_size: int = 10) -> None:
        self.settle_polls = settle_polls
        self.page_size = page_size
        self.calls: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._accelerators: dict[str, Json] = {}
        self._listeners: dict[str, Json] = {}  # + "_accelerator": its accelerator's ARN
        self._groups: dict[str, Json] = {}  # + "_listener": its listener's ARN
        self._tokens: dict[tuple[str, str], str] = {}
        self._faults: list[_Fault] = []
        self._forced_health: dict[str, str] = {}
        self._serial = itertools.count(1)
        self._ops: dict[str, Callable[[Json], Json]] = {
            name.removeprefix("_op_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("_op_")
        }

    # fault injection and inspection ---------------------------------------------------------

    def inject(
        self,
        code: str,
        *,
        status: int = 400,
        times: int = 1,
        operation: str | None = None,
        message: str = "injected by the fake",
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` calls (of ``operation``, or any) with this error; with
        ``after``, carry the call out first (an answer lost after AWS acted on the request)."""
        with self._lock:
            self._faults.append(
                _Fault(
                    code=code,
                    status=status,
                    message=message,
                    remaining=times,
                    operation=operation,
                    after=after,
                )
            )

    def throttle(self, times: int = 1, operation: str | None = None) -> None:
        """The next ``times`` calls get ThrottlingException (HTTP 400), as AWS throttles."""
        self.inject(
            "ThrottlingException", times=times, operation=operation, message="Rate exceeded"
        )

    def server_error(
        self, times: int = 1, operation: str | None = None, status: int = 500, after: bool = False
    ) -> None:
        """The next ``times`` calls get InternalServiceErrorException with HTTP ``status``."""
        self.inject(
            "InternalServiceErrorException",
            status=status,
            times=times,
            operation=operation,
            after=after,
        )

    def clear_faults(self) -> None:
        """Forget every injected fault (the outage is over)."""
        with self._lock:
            self._faults.clear()

    def settle(self) -> None:
        """Finish deploying every accelerator now (as if enough time had passed)."""
        with self._lock:
            for accelerator in self._accelerators.values():
                accelerator["_pending"] = 0
                self._observe(accelerator)

    def set_endpoint_health(self, endpoint_id: str, state: str | None) -> None:
        """Make ``endpoint_id`` report ``state`` (HEALTHY/UNHEALTHY/INITIAL); None: as modelled."""
        with self._lock:
            if state is None:
                self._forced_health.pop(endpoint_id, None)
            else:
                self._forced_health[endpoint_id] = state

    def resource_ids(self) -> list[str]:
        """One string per accelerator, listener and endpoint group (names and ARNs)."""
        with self._lock:
            return sorted(
                [f"accelerator/{a['Name']}/{arn}" for arn, a in self._accelerators.items()]
                + [f"listener/{arn}" for arn in self._listeners]
                + [
                    f"endpoint-group/{g['EndpointGroupRegion']}/{arn}"
                    for arn, g in self._groups.items()
                ]
            )

    def endpoint_weights(self, owner: str) -> dict[str, float]:
        """Endpoints of the accelerators tagged ``kfed.io/owner=owner`` (or named ``owner``):
        ``{endpoint id: weight}``, 0 where the group's traffic dial is 0."""
        with self._lock:
            arns = {
                arn
                for arn, a in self._accelerators.items()
                if a["_tags"].get("kfed.io/owner") == owner or a["Name"] == owner
            }
            listeners = {
                arn for arn, item in self._listeners.items() if item["_accelerator"] in arns
            }
            weights: dict[str, float] = {}
            for group in self._groups.values():
                if group["_listener"] in listeners:
                    for endpoint in group["EndpointDescriptions"]:
                        dial = group["TrafficDialPercentage"]
                        weights[endpoint["EndpointId"]] = endpoint["Weight"] if dial > 0 else 0.0
            return weights

    def accelerator_tags(self) -> dict[str, dict[str, str]]:
        """``{accelerator ARN: tags}`` of every accelerator."""
        with self._lock:
            return {arn: dict(a["_tags"]) for arn, a in self._accelerators.items()}

    # the API ---------------------------------------------------------------------------------

    def handle(self, operation: str, body: Mapping[str, Any]) -> Json:
        """Answer ``operation`` with ``body``; raises FakeAwsError as the real API answers."""
        with self._lock:
            self.calls[operation] += 1
            handler = self._ops.get(operation)
            if handler is None:
                raise FakeAwsError("UnknownOperationException", f"unknown operation {operation}")
            for fault in self._faults:
                if fault.remaining > 0 and fault.operation in (None, operation):
                    fault.remaining -= 1
                    if fault.after:
                        handler(dict(body))
                    raise FakeAwsError(fault.code, fault.message, fault.status)
            return handler(dict(body))

    def _op_CreateAccelerator(self, body: Json) -> Json:
        name = check_name(required(body, "Name"))
        token = str(required(body, "IdempotencyToken"))
        again = self._tokens.get(("accelerator", token))
        if again in self._accelerators:
            return {"Accelerator": self._public(self._accelerators[again])}
        if len(self._accelerators) >= MAX_ACCELERATORS:
            raise FakeAwsError("LimitExceededException", "accelerator quota reached")
        n = next(self._serial)
        arn = f"arn:aws:globalaccelerator::{ACCOUNT}:accelerator/{n:08x}-0000-4000-8000-{n:012x}"
        now = time.time()
        self._accelerators[arn] = {
            "AcceleratorArn": arn,
            "Name": name,
            "IpAddressType": check_choice(body, "IpAddressType", ("IPV4", "DUAL_STACK"), "IPV4"),
            "Enabled": bool(body.get("Enabled", True)),
            "IpSets": [
                {
                    "IpFamily": "IPv4",
                    "IpAddressFamily": "IPv4",
                    "IpAddresses": [f"198.51.100.{n % 250 + 1}", f"203.0.113.{n % 250 + 1}"],
                }
            ],
            "DnsName": f"a{n:015x}.awsglobalaccelerator.com",
            "Status": "IN_PROGRESS",
            "CreatedTime": now,
            "LastModifiedTime": now,
            "_tags": check_tags(body.get("Tags", [])),
            "_pending": self.settle_polls,
        }
        self._tokens["accelerator", token] = arn
        return {"Accelerator": self._public(self._accelerators[arn])}

    def _op_DescribeAccelerator(self, body: Json) -> Json:
        accelerator = self._accelerator(required(body, "AcceleratorArn"))
        self._observe(accelerator)
        return {"Accelerator": self._public(accelerator)}

    def _op_ListAccelerators(self, body: Json) -> Json:
        items = [self._accelerators[arn] for arn in sorted(self._accelerators)]
        found, token = page(items, body, self.page_size)
        for accelerator in found:
            self._observe(accelerator)
        return {"Accelerators": [self._public(a) for a in found], **token}

    def _op_UpdateAccelerator(self, body: Json) -> Json:
        accelerator = self._accelerator(required(body, "AcceleratorArn"))
        changed = False
        if "Name" in body:
            changed |= accelerator["Name"] != check_name(body["Name"])
            accelerator["Name"] = body["Name"]
        if "Enabled" in body:
            changed |= accelerator["Enabled"] != bool(body["Enabled"])
            accelerator["Enabled"] = bool(body["Enabled"])
        if changed:
            self._touch(accelerator)
        return {"Accelerator": self._public(accelerator)}

    def _op_DeleteAccelerator(self, body: Json) -> Json:
        arn = required(body, "AcceleratorArn")
        accelerator = self._accelerator(arn)
        if any(item["_accelerator"] == arn for item in self._listeners.values()):
            raise FakeAwsError(
                "AssociatedListenerFoundException",
                "The accelerator that you specified has a listener associated with it. You "
                "must remove all dependent resources from an accelerator before you can delete it.",
            )
        if accelerator["Enabled"]:
            raise FakeAwsError(
                "AcceleratorNotDisabledException",
                "The accelerator that you specified could not be disabled.",
            )
        if accelerator["Status"] != "DEPLOYED":
            raise FakeAwsError(
                "AcceleratorNotDisabledException",
                "The accelerator is still being disabled (Status IN_PROGRESS).",
            )
        del self._accelerators[arn]
        return {}

    def _op_ListTagsForResource(self, body: Json) -> Json:
        arn = required(body, "ResourceArn")
        if arn in self._listeners or arn in self._groups:
            return {"Tags": []}
        tags = self._accelerator(arn)["_tags"]
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def _op_TagResource(self, body: Json) -> Json:
        accelerator = self._accelerator(required(body, "ResourceArn"))
        accelerator["_tags"].update(check_tags(required(body, "Tags")))
        return {}

    def _op_UntagResource(self, body: Json) -> Json:
        accelerator = self._accelerator(required(body, "ResourceArn"))
        for key in required(body, "TagKeys"):
            accelerator["_tags"].pop(key, None)
        return {}

    def _op_CreateListener(self, body: Json) -> Json:
        accelerator_arn = required(body, "AcceleratorArn")
        accelerator = self._accelerator(accelerator_arn)
        token = str(required(body, "IdempotencyToken"))
        again = self._tokens.get(("listener", token))
        if again in self._listeners:
            return {"Listener": self._public(self._listeners[again])}
        ranges = check_port_ranges(required(body, "PortRanges"))
        siblings = [i for i in self._listeners.values() if i["_accelerator"] == accelerator_arn]
        if len(siblings) >= MAX_LISTENERS:
            raise FakeAwsError("LimitExceededException", "listener quota reached")
        if any(overlaps(ranges, listener_ranges(item)) for item in siblings):
            raise FakeAwsError("InvalidPortRangeException", "port ranges overlap another listener")
        arn = f"{accelerator_arn}/listener/{next(self._serial):08x}"
        self._listeners[arn] = {
            "ListenerArn": arn,
            "PortRanges": [{"FromPort": low, "ToPort": high} for low, high in ranges],
            "Protocol": check_choice(body, "Protocol", ("TCP", "UDP"), "TCP"),
            "ClientAffinity": check_choice(body, "ClientAffinity", ("NONE", "SOURCE_IP"), "NONE"),
            "_accelerator": accelerator_arn,
        }
        self._tokens["listener", token] = arn
        self._touch(accelerator)
        return {"Listener": self._public(self._listeners[arn])}

    def _op_DescribeListener(self, body: Json) -> Json:
        return {"Listener": self._public(self._listener(required(body, "ListenerArn")))}

    def _op_ListListeners(self, body: Json) -> Json:
        arn = required(body, "AcceleratorArn")
        self._accelerator(arn)
        items = [
            self._listeners[k]
            for k in sorted(self._listeners)
            if self._listeners[k]["_accelerator"] == arn
        ]
        found, token = page(items, body, self.page_size)
        return {"Listeners": [self._public(item) for item in found], **token}

    def _op_UpdateListener(self, body: Json) -> Json:
        listener = self._listener(required(body, "ListenerArn"))
        if "PortRanges" in body:
            ranges = check_port_ranges(body["PortRanges"])
            siblings = [
                item
                for item in self._listeners.values()
                if item["_accelerator"] == listener["_accelerator"] and item is not listener
            ]
            if any(overlaps(ranges, listener_ranges(item)) for item in siblings):
                raise FakeAwsError(
                    "InvalidPortRangeException", "port ranges overlap another listener"
                )
            listener["PortRanges"] = [{"FromPort": low, "ToPort": high} for low, high in ranges]
        listener["Protocol"] = check_choice(body, "Protocol", ("TCP", "UDP"), listener["Protocol"])
        listener["ClientAffinity"] = check_choice(
            body, "ClientAffinity", ("NONE", "SOURCE_IP"), listener["ClientAffinity"]
        )
        self._touch(self._accelerators[listener["_accelerator"]])
        return {"Listener": self._public(listener)}

    def _op_DeleteListener(self, body: Json) -> Json:
        arn = required(body, "ListenerArn")
        listener = self._listener(arn)
        if any(group["_listener"] == arn for group in self._groups.values()):
            raise FakeAwsError(
                "AssociatedEndpointGroupFoundException",
                "The listener that you specified has an endpoint group associated with it. You "
                "must remove all dependent resources from a listener before you can delete it.",
            )
        del self._listeners[arn]
        self._touch(self._accelerators[listener["_accelerator"]])
        return {}

    def _op_CreateEndpointGroup(self, body: Json) -> Json:
        listener_arn = required(body, "ListenerArn")
        listener = self._listener(listener_arn)
        token = str(required(body, "IdempotencyToken"))
        again = self._tokens.get(("endpoint-group", token))
        if again in self._groups:
            return {"EndpointGroup": self._public(self._groups[again])}
        region = check_region(required(body, "EndpointGroupRegion"))
        if any(
            g["_listener"] == listener_arn and g["EndpointGroupRegion"] == region
            for g in self._groups.values()
        ):
            raise FakeAwsError(
                "EndpointGroupAlreadyExistsException",
                f"The endpoint group for {region} already exists for this listener.",
            )
        arn = f"{listener_arn}/endpoint-group/{next(self._serial):012x}"
        group: Json = {
            "EndpointGroupArn": arn,
            "EndpointGroupRegion": region,
            "EndpointDescriptions": [],
            "TrafficDialPercentage": 100.0,
            "HealthCheckPort": 80,
            "HealthCheckProtocol": "TCP",
            "HealthCheckIntervalSeconds": 30,
            "ThresholdCount": 3,
            "PortOverrides": [],
            "_listener": listener_arn,
        }
        self._configure(group, body, listener)
        self._groups[arn] = group
        self._tokens["endpoint-group", token] = arn
        self._touch(self._accelerators[listener["_accelerator"]])
        return {"EndpointGroup": self._public(group)}

    def _op_DescribeEndpointGroup(self, body: Json) -> Json:
        return {"EndpointGroup": self._public(self._group(required(body, "EndpointGroupArn")))}

    def _op_ListEndpointGroups(self, body: Json) -> Json:
        arn = required(body, "ListenerArn")
        self._listener(arn)
        items = [
            self._groups[k] for k in sorted(self._groups) if self._groups[k]["_listener"] == arn
        ]
        found, token = page(items, body, self.page_size)
        return {"EndpointGroups": [self._public(g) for g in found], **token}

    def _op_UpdateEndpointGroup(self, body: Json) -> Json:
        group = self._group(required(body, "EndpointGroupArn"))
        listener = self._listeners[group["_listener"]]
        self._configure(group, body, listener)
        self._touch(self._accelerators[listener["_accelerator"]])
        return {"EndpointGroup": self._public(group)}

    def _op_DeleteEndpointGroup(self, body: Json) -> Json:
        group = self._group(required(body, "EndpointGroupArn"))
        del self._groups[group["EndpointGroupArn"]]
        self._touch(self._accelerators[self._listeners[group["_listener"]]["_accelerator"]])
        return {}

    # helpers ---------------------------------------------------------------------------------

    def _configure(self, group: Json, body: Json, listener: Json) -> None:
        if "EndpointConfigurations" in body:
            old = {e["EndpointId"]: e for e in group["EndpointDescriptions"]}
            configs = check_endpoints(body["EndpointConfigurations"], group["EndpointGroupRegion"])
            for config in configs:
                kept = old.get(config["EndpointId"])
                config["HealthState"] = kept["HealthState"] if kept else "INITIAL"
            group["EndpointDescriptions"] = configs
        if "TrafficDialPercentage" in body:
            group["TrafficDialPercentage"] = check_dial(body["TrafficDialPercentage"])
        if "PortOverrides" in body:
            group["PortOverrides"] = check_port_overrides(
                body["PortOverrides"], listener_ranges(listener)
            )

    def _touch(self, accelerator: Json) -> None:
        """A change: the accelerator deploys again and settles after ``settle_polls`` reads."""
        accelerator["Status"] = "IN_PROGRESS"
        accelerator["LastModifiedTime"] = time.time()
        accelerator["_pending"] = self.settle_polls
        if self.settle_polls == 0:
            self._observe(accelerator)

    def _observe(self, accelerator: Json) -> None:
        if accelerator["_pending"] > 0:
            accelerator["_pending"] -= 1
        if accelerator["_pending"] == 0 and accelerator["Status"] != "DEPLOYED":
            accelerator["Status"] = "DEPLOYED"
            listeners = {
                k
                for k, v in self._listeners.items()
                if v["_accelerator"] == accelerator["AcceleratorArn"]
            }
            for group in self._groups.values():
                if group["_listener"] in listeners:
                    for endpoint in group["EndpointDescriptions"]:
                        if endpoint["HealthState"] == "INITIAL":
                            endpoint["HealthState"] = "HEALTHY"

    def _public(self, item: Json) -> Json:
        out = {k: v for k, v in item.items() if not k.startswith("_")}
        if "EndpointDescriptions" in out:
            out["EndpointDescriptions"] = [
                {**e, "HealthState": self._forced_health.get(e["EndpointId"], e["HealthState"])}
                for e in out["EndpointDescriptions"]
            ]
        return out

    def _accelerator(self, arn: Any) -> Json:
        if arn not in self._accelerators:
            raise FakeAwsError("AcceleratorNotFoundException", f"Accelerator {arn} not found.")
        return self._accelerators[arn]

    def _listener(self, arn: Any) -> Json:
        if arn not in self._listeners:
            raise FakeAwsError("ListenerNotFoundException", f"Listener {arn} not found.")
        return self._listeners[arn]

    def _group(self, arn: Any) -> Json:
        if arn not in self._groups:
            raise FakeAwsError("EndpointGroupNotFoundException", f"Endpoint group {arn} not found.")
        return self._groups[arn]

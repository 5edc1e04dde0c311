"""Fakes of the AWS services the ``aws`` provider uses, for tests, plugin authors and demos.

Layer: ``kfed_aws.fake`` (test support shipped in the package; production code never imports
it). :class:`FakeGlobalAccelerator` is the fake service's state and rules,
:class:`GlobalAcceleratorServer` (async) and :class:`ThreadedGlobalAcceleratorServer` put it on
HTTP with the real JSON 1.1 protocol. For ELBv2, EC2 and Route 53 use moto in server mode:
``kfed_aws.fake.moto_server.MotoServer`` (imported on its own, so that this package does not
need moto). docs/providers/aws.md says what the fakes model and what they do not.
"""

from kfed_aws.fake.ga_checks import FakeAwsError
from kfed_aws.fake.ga_server import GlobalAcceleratorServer, ThreadedGlobalAcceleratorServer
from kfed_aws.fake.ga_state import FakeGlobalAccelerator

__all__ = [
    "FakeAwsError",
    "FakeGlobalAccelerator",
    "GlobalAcceleratorServer",
    "ThreadedGlobalAcceleratorServer",
]

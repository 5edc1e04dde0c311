"""kfed-aws as a kfed plugin: offers the ``aws`` global load balancer provider.

Layer: ``kfed_aws`` plugin registration (entry point group ``kfed.plugins``). The hook only
describes; the factory reads the options (raising ProviderError naming a bad one) and builds
the provider without I/O: boto3 is imported here only when a provider starts, and its clients
are made on the first call.
"""

from __future__ import annotations

from kfed_aws.provider import AwsProvider
from kfed_aws.settings import settings_from_options
from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import IngressProvider


def make_provider(settings: ProviderSettings) -> IngressProvider:
    """Start an AWS provider from the hub's settings for it."""
    aws = settings_from_options(settings.name, settings.options)
    from kfed_aws.aws_client import Boto3Aws  # the SDK loads only when a provider starts

    return AwsProvider(aws, Boto3Aws(aws))


@hookimpl
def kfed_register_providers() -> list[ProviderInfo]:
    """The ``aws`` provider: an AWS Global Accelerator per federated Ingress."""
    return [
        ProviderInfo(
            name="aws",
            description="AWS Global Accelerator: one endpoint group per region, the clusters' "
            "NLBs/ALBs as weighted endpoints",
            factory=make_provider,
        )
    ]

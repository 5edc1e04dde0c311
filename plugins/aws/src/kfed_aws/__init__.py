"""kfed-aws: the ``aws`` provider of kfed's federated Ingress, an AWS Global Accelerator.

Layer: a kfed plugin (imports ``kfed_core`` and, in :mod:`kfed_aws.aws_client` only, boto3;
never the hub or the agent). Modules: :mod:`~kfed_aws.plugin` (registration and factory),
:mod:`~kfed_aws.provider` (the IngressProvider), :mod:`~kfed_aws.dns` (the optional Route 53
record), the pure :mod:`~kfed_aws.planning`, :mod:`~kfed_aws.naming`, :mod:`~kfed_aws.settings`,
:mod:`~kfed_aws.errors` and :mod:`~kfed_aws.retry`, the seam :mod:`~kfed_aws.api`, and the
fake Global Accelerator in :mod:`kfed_aws.fake`. See docs/providers/aws.md.
"""

"""Fixtures of the AWS provider's integration tests (defined in awshelpers)."""

from awshelpers import moto_nlbs, moto_server, world  # noqa: F401 - fixtures, found by name

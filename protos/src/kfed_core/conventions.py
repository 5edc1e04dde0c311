"""Names kfed writes into member clusters and certificates; shared by hub and agent.

Layer: ``kfed_core`` (contract), constants only.
"""

from __future__ import annotations

FIELD_MANAGER = "kfed"
"""Server-side apply field manager of every object the agent applies."""

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
"""Ownership label on every object kfed applies; its value is :data:`MANAGED_BY_VALUE`."""

MANAGED_BY_VALUE = "kfed"

KEY_ANNOTATION = "kfed.io/key"
"""The object's kfed resource key (see :mod:`kfed_core.keys`)."""

VERSION_ANNOTATION = "kfed.io/version"
"""The content version the object was applied from; the agent rebuilds Hello from it."""

SPIFFE_CLUSTER_PREFIX = "spiffe://kfed/cluster/"
"""URI SAN prefix of an agent certificate; the rest is the cluster name."""

SPIFFE_ADMIN_PREFIX = "spiffe://kfed/admin/"
"""URI SAN prefix of an operator (admin) client certificate; the rest is the user name."""

SPIFFE_HUB = "spiffe://kfed/hub"
"""URI SAN of the hub's serving certificate."""

AGENT_NAMESPACE = "kfed-system"
"""Namespace of the agent's Lease (leader election) in a member cluster."""

AGENT_LEASE_NAME = "kfed-agent"

GLOBAL_ADDRESS_ANNOTATION = "kfed.io/global-address"
"""On a member cluster's copy of a federated Ingress: the global load balancer's address (an IP
or a host name). The hub sets it once the Ingress's provider has one; the agent writes it into
the member Ingress's ``status.loadBalancer.ingress``, so every cluster shows the one address."""

READY_ENDPOINTS_STATUS = "kfedReadyEndpoints"
"""In a Service's status as its agent reports it (never written to the cluster): how many ready
pods the Service's selector picks, the capacity the hub weighs that cluster's backend by."""

"""kfed-openstack: the ``openstack`` global load balancer provider for federated Ingresses.

Per OpenStack region an Octavia load balancer (listener, pool, health monitor, one member per
cluster), and one Designate A record listing the VIPs of the regions that serve (DNS-based
failover). Modules: :mod:`~kfed_openstack.plugin` (registration and factory),
:mod:`~kfed_openstack.provider` and :mod:`~kfed_openstack.regional` (convergence),
:mod:`~kfed_openstack.calls` and :mod:`~kfed_openstack.retry` (retries and waits),
:mod:`~kfed_openstack.settings` and :mod:`~kfed_openstack.naming` (pure), the seam
:mod:`~kfed_openstack.api`, :mod:`~kfed_openstack.os_client` (the only module importing
openstacksdk), and :mod:`kfed_openstack.fake` (a fake Keystone, Octavia and Designate over HTTP).
See ``docs/providers/openstack.md``.
"""

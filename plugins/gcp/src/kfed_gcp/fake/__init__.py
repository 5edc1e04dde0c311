"""A fake Google Compute Engine REST API for the ``gcp`` provider's tests, demos and plugin authors.

Layer: test double shipped with the plugin; it imports nothing of the provider and no Google
SDK, so it stands for the service itself. :class:`FakeGce` serves the REST paths that
google-cloud-compute calls for global external HTTP load balancers (addresses, health checks,
zonal hybrid NEGs and their endpoints, backend services with getHealth, URL maps, target HTTP
proxies, global forwarding rules, firewalls, global and zonal operations), keeping GCE's rules
and errors (see :mod:`kfed_gcp.fake.model`). ``docs/providers/gcp.md`` lists what it models and
what it does not.

    async with serving() as fake:
        options = {"project": fake.model.project, "endpoint": fake.url}
"""

from kfed_gcp.fake.errors import FakeGceError
from kfed_gcp.fake.model import GceModel
from kfed_gcp.fake.server import FakeGce, Fault, ThreadedFake, running_in_thread, serving

__all__ = [
    "FakeGce",
    "FakeGceError",
    "Fault",
    "GceModel",
    "ThreadedFake",
    "running_in_thread",
    "serving",
]

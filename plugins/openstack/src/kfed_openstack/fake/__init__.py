"""A fake OpenStack cloud for kfed's tests, plugin authors and demos.

Layer: ``kfed_openstack.fake`` (test support shipped with the package; the provider never
imports it). :class:`FakeOpenStack` serves Keystone v3, Octavia v2 per region and Designate v2
over HTTP on 127.0.0.1 so that the real openstacksdk can be pointed at it::

    async with FakeOpenStack(regions=("RegionOne", "RegionTwo")) as cloud:
        options = cloud.options()          # authUrl, username, vipSubnet.<region>, dnsZone, ...
        os.environ[PASSWORD_ENV] = cloud.password
        ...
        cloud.resource_ids()               # everything kfed could have made
        cloud.member_weights("kfed-web")   # {"ip:port": weight} under that load balancer
        cloud.fail_next(2, 503)            # the next two API calls fail

See ``docs/providers/openstack.md`` ("What the fake models") for what it keeps and what not.
"""

from kfed_openstack.fake.server import PASSWORD_ENV, Call, FakeOpenStack, Fault, running_in_thread

__all__ = ["PASSWORD_ENV", "Call", "FakeOpenStack", "Fault", "running_in_thread"]

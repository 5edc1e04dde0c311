"""kfed-gcp: the ``gcp`` ingress provider, a global external HTTP(S) load balancer per Ingress.

Modules: :mod:`kfed_gcp.plugin` (registration and factory), :mod:`kfed_gcp.provider` (the
provider), :mod:`kfed_gcp.plan` / :mod:`kfed_gcp.names` / :mod:`kfed_gcp.options` /
:mod:`kfed_gcp.retry` (pure), :mod:`kfed_gcp.calls` (retries), :mod:`kfed_gcp.api` (the seam),
:mod:`kfed_gcp.gce_client` (the only module importing google-cloud-compute) and
:mod:`kfed_gcp.fake` (a fake GCE REST server). See ``docs/providers/gcp.md``.
"""

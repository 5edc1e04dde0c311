"""The hub's HTTPS API for operators: Kubernetes-style resource paths over mTLS.

Layer: ``kfed_hub.api``, above the store and the :mod:`kfed_hub.ports` seams; nothing below
imports it. :func:`build_api_app` is the entry point; modules: ``app`` (routes, authentication,
metrics), ``kinds`` (the built-in kinds), ``catalog`` (the built-in and dynamic kinds served),
``dynamic`` (the first create of a dynamic kind), ``crds`` (what a CustomResourceDefinition
teaches), ``errors`` (Status responses: the only place HTTP status codes are made),
``admission`` and ``names`` (pure validation and defaulting), ``bodies`` (bounded JSON bodies),
``objects``, ``clusters``, ``events``, ``bootstrap`` and ``discovery`` (handlers), ``deletion``
(DeleteOptions), ``status`` and ``aggregate`` (the per-cluster and federated status of served
objects), ``selectors`` (label selectors), ``fakes`` (test stand-ins for the seams).
"""

from kfed_hub.api.app import build_api_app

__all__ = ["build_api_app"]

"""Pure planning: which clusters get an object (placement), how many replicas each gets
(scheduling), what changes per cluster (overrides), legacy API translation and dependencies.

Layer: ``kfed_hub.planning``, pure (values in, values out: no clock, no randomness, no I/O, no
logging). Explanations are data, so ``kfed describe`` can show why a cluster got its count and
tests can assert it.
"""

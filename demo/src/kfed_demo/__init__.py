"""kfed demo: the 2016 Cluster Federation walk-through, end to end, on this machine.

Layer: the top of kfed. It composes everything (simulated clusters, the hub, nine agents) and
nothing imports it. The commands it prints are run for real (the ``kfed`` CLI, ``kubectl``,
``kfed sim fault``) and their output is shown as they print it.
"""

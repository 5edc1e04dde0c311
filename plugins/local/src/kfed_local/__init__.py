"""kfed's local provider: simulated member clusters (``kfed_local.sim``) and a software global
load balancer (``kfed_local.glb``, the ``local`` ingress provider, registered in
``kfed_local.plugin``).

Layer: a plugin. It depends on ``kfed_core`` only and never imports the hub or the agent.
"""

"""kfed's local provider: simulated member clusters (``kfed_local.sim``).

Layer: a plugin. It depends on ``kfed_core`` only and never imports the hub or the agent.
"""

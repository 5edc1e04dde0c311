"""kfed's agent: runs in each member cluster, dials out to the hub and applies its desired state.

Layer: the agent distribution. Only ``kfed_agent.kube`` imports the ``kubernetes`` client; only
``kfed_agent.link`` speaks gRPC. The agent never imports the hub, and the hub never imports it.
"""

__version__ = "0.1.0"

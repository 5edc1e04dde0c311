"""Sans-I/O state machines for the two ends of the Sync stream (go-control-plane's lesson: keep the
protocol's state apart from the stream server, so it can be tested without sockets).

:mod:`kfed_core.sync.hub_side` decides what to send a cluster and digests its results;
:mod:`kfed_core.sync.agent_side` checks what arrives at the agent and tracks what it holds.
"""

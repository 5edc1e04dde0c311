"""kfed's contract: what the hub, the agents and the plugins share.

Layer: the bottom. It holds the Sync protocol, the pure model, PKI helpers, errors and plugin
hookspecs, and imports nothing else of kfed.
"""

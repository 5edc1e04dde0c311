"""The hub's persistent state behind one Protocol (:class:`kfed_hub.store.protocol.Store`).

SQLite is the embedded default (:mod:`kfed_hub.store.sqlite`); Secret data is sealed at rest with
AES-GCM (:mod:`kfed_hub.store.sealing`).
"""

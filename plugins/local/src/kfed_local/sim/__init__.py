"""Simulated Kubernetes member clusters: real HTTPS API servers with simulated nodes and pods.

No containers run. See docs/simulated-clusters.md.
"""

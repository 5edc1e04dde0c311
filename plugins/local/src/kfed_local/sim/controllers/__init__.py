"""The control loops of a simulated cluster (kube-controller-manager, scheduler, kubelets).

Layer: controllers, above the API logic; they write only through :class:`ClusterApi`.
"""

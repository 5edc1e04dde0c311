"""The federated Ingress controller: global load balancers through provider plugins."""

"""The kfed hub: the service that holds what operators want, and the ``kfed`` command line.

Layer: above ``kfed_core``. It never imports the agent or a plugin; plugins are found through
entry points.
"""

__version__ = "0.1.0"

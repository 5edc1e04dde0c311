"""The ``kfed`` command line: kubectl habits, one subcommand per noun-verb pair."""

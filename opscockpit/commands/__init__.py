"""Subcommands of the ``opscockpit`` CLI, one module each; ``cli.py`` registers them."""

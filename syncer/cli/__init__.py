"""The commands a person types: ``pmsync`` (main), its subcommands and ``python -m`` tools.

The top layer: it may import everything below it, and nothing imports it.
"""

"""Runnable examples; each is a module run with ``python -m flux.examples.<name>``."""

"""The decorator: ``@advise`` (decorator.py), what it runs (engine.py), its warm pools, its
tuning cache, and the Jupyter magics."""
from .decorator import advise, shutdown_pools

__all__ = ["advise", "shutdown_pools"]

"""The command line: ``paradvise machine | profile | report | cache`` (main.py)."""
from .main import main

__all__ = ["main"]

"""Networks of the five papers, one module per family."""

from . import cosmogan

__all__ = ["cosmogan"]

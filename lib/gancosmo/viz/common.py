"""Small helpers shared by the book's figure modules and chapters."""

from __future__ import annotations

import sys

__all__ = ["pyplot", "plain_log_ticks", "show_figures_inline"]


def pyplot():
    """matplotlib.pyplot, imported on first use (importing gancosmo stays cheap)."""
    import matplotlib.pyplot as plt

    return plt


def plain_log_ticks(*axes) -> None:
    """Hide the minor tick labels of log-scaled x axes (they overlap on short ranges)."""
    from matplotlib.ticker import NullFormatter

    for ax in axes:
        ax.xaxis.set_minor_formatter(NullFormatter())


def show_figures_inline() -> None:
    """In a Jupyter kernel started with MPLBACKEND=Agg (headless runs), switch back to the
    inline backend so executed notebooks keep their figures; elsewhere do nothing."""
    import matplotlib

    if "ipykernel" in sys.modules and matplotlib.get_backend().lower() == "agg":
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:  # the magic also registers the hook that displays figures
            shell.run_line_magic("matplotlib", "inline")

"""One progress bar for the whole library: a widget in a live notebook, plain text everywhere else.

``tqdm.auto`` draws an ipywidgets bar whenever the code runs in a Jupyter kernel, including the
kernels papermill and the book's build start; a saved notebook keeps such a widget without its
state, so it shows 0% forever. :func:`progress_bar` draws the widget only in a live front end
(a person's Jupyter, which lets the kernel ask for input) and otherwise a plain-text ``tqdm.std``
bar on stderr, whose carriage returns leave an executed notebook (and a terminal) with the bar's
final line.

``GANCOSMO_PROGRESS=text`` or ``=widget`` overrides the choice.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress_bar", "live_widget_frontend"]

#: Seconds between redraws of a text bar (a saved notebook keeps every redraw in its stderr stream).
TEXT_MININTERVAL = 2.0


def live_widget_frontend() -> bool:
    """True inside a Jupyter kernel driven by a person's front end, with ipywidgets installed.

    A kernel run by papermill, nbclient or the book's build (jupyter-cache) is told that the
    client cannot answer ``input()`` (``allow_stdin`` false in its execute request); JupyterLab,
    the classic notebook and VS Code allow it.
    """
    choice = os.environ.get("GANCOSMO_PROGRESS", "").strip().lower()
    if choice in ("text", "widget"):
        return choice == "widget"
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    get_parent = getattr(kernel, "get_parent", None)  # ipykernel >= 6: the request being executed
    request = get_parent("shell") if get_parent is not None else {}
    content = request.get("content", {}) if isinstance(request, dict) else {}
    if "allow_stdin" in content:
        return bool(content["allow_stdin"])
    return bool(getattr(kernel, "_allow_stdin", False))


def progress_bar(total: int | None = None, desc: str = "", disable: bool = False, **kw):
    """A tqdm bar over ``total`` steps: a widget in a live Jupyter front end, else plain text on stderr.

    Parameters
    ----------
    total : int, optional
        Steps of the whole task.
    desc : str
        Label before the bar.
    disable : bool
        No bar at all (the object still counts, as tqdm's does).
    **kw
        Passed to tqdm (``initial``, ``unit``, ``leave``...). A text bar redraws at most every
        :data:`TEXT_MININTERVAL` seconds unless ``mininterval`` is given.

    Returns
    -------
    tqdm.std.tqdm or tqdm.notebook.tqdm
        Use it as tqdm: ``update``, ``set_postfix``, ``close``, or as a context manager.
    """
    if not disable and live_widget_frontend():
        from tqdm.notebook import tqdm as widget_tqdm

        return widget_tqdm(total=total, desc=desc, **kw)
    from tqdm.std import tqdm as text_tqdm

    kw.setdefault("mininterval", TEXT_MININTERVAL)
    kw.setdefault("file", sys.stderr)
    kw.setdefault("dynamic_ncols", False)
    return text_tqdm(total=total, desc=desc, disable=disable, **kw)

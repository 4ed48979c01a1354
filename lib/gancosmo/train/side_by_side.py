"""Independent jobs side by side in spawned processes, one process per job, stopping at the first failure.

Chapters whose paper trains several GANs independently (P4's three stages, P5's two image sets)
train them at once on a multi-core CPU. Each job runs in a fresh ``spawn`` process that receives
its arguments when it starts and returns its result as one pickled message; nothing is queued
behind a process that may be stopped, so stopping one (when another fails) cannot leave a
half-written pipe behind, and the call returns or raises promptly in every case.
"""

from __future__ import annotations

import multiprocessing
import pickle
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import wait
from typing import Any

__all__ = ["JobFailed", "run_side_by_side"]


class JobFailed(RuntimeError):
    """A job of :func:`run_side_by_side` raised or its process died; ``name`` says which, ``details`` its traceback."""

    def __init__(self, name: str, message: str, details: str = ""):
        super().__init__(message)
        self.name, self.message, self.details = name, message, details


def _child(function: Callable, args: tuple, conn) -> None:
    try:
        # plain pickle, not multiprocessing's: tensors are copied into the message rather than shared
        # through handles that would die with this process
        payload = pickle.dumps(("ok", function(*args)), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, by name
        payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    conn.send_bytes(payload)
    conn.close()


def run_side_by_side(
    function: Callable,
    jobs: Mapping[str, tuple],
    workers: int,
    on_done: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """``{name: function(*args)}`` for every ``name: args`` of ``jobs``, each call in its own spawned process.

    At most ``workers`` processes run at once; jobs start in the order of ``jobs`` and the result
    keeps that order whatever order they finish in. ``function`` and the arguments must be
    picklable (``function`` importable by name). If a job raises, or its process ends without
    answering, every running process is terminated and joined and :class:`JobFailed` is raised
    naming that job; the same clean-up runs on KeyboardInterrupt.

    Parameters
    ----------
    function : callable
        Module-level function run in the child processes.
    jobs : mapping of str to tuple
        Positional arguments of each call, by job name.
    workers : int
        Processes at once (>= 1).
    on_done : callable, optional
        Called in this process with each job's name as it finishes (e.g. to advance a progress bar).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers is {workers!r}; accepted is an integer >= 1.")
    ctx = multiprocessing.get_context("spawn")
    pending, running, results = list(jobs), {}, {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                name = pending.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(function, tuple(jobs[name]), send), daemon=True)
                process.start()
                send.close()  # the child holds the only writer: its death reads as end of file here
                running[name] = (process, receive)
            ready = wait([conn for _, conn in running.values()])
            for name in [n for n, (_, conn) in running.items() if conn in ready]:
                process, conn = running.pop(name)
                try:
                    message = pickle.loads(conn.recv_bytes())
                except EOFError:
                    process.join()
                    message = ("error", f"its process ended with exit code {process.exitcode} and no result", "")
                finally:
                    conn.close()
                process.join()
                if message[0] == "error":
                    raise JobFailed(name, message[1], message[2])
                results[name] = message[1]
                if on_done is not None:
                    on_done(name)
    finally:
        for process, _ in running.values():
            process.terminate()
        for process, conn in running.values():
            process.join()
            conn.close()
    return {name: results[name] for name in jobs}

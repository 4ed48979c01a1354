"""gancosmo.train.side_by_side: one spawned process per job, results in job order, prompt and clean failure."""

import multiprocessing
import os
import time

import pytest
from gancosmo.train.side_by_side import JobFailed, run_side_by_side


def _pid_after(seconds: float, value: int) -> tuple[int, int]:
    time.sleep(seconds)
    return os.getpid(), value * value


def _fail_or_sleep(fail: bool) -> None:
    if fail:
        raise ValueError("a bad job")
    time.sleep(120)


def _die() -> None:
    os._exit(3)


def _tensor(n: int):
    import torch

    return torch.arange(n, dtype=torch.float32)


def test_results_keep_the_jobs_order_and_each_job_has_its_own_process():
    done = []
    jobs = {"slow": (1.0, 3), "quick": (0.0, 4), "third": (0.0, 5)}
    out = run_side_by_side(_pid_after, jobs, workers=2, on_done=done.append)
    assert list(out) == ["slow", "quick", "third"]
    assert [v for _, v in out.values()] == [9, 16, 25]
    pids = {pid for pid, _ in out.values()}
    assert len(pids) == 3 and os.getpid() not in pids
    assert sorted(done) == sorted(jobs) and done[-1] != "quick"  # the quick job did not wait for the slow one
    assert not multiprocessing.active_children()


def test_tensors_come_back_after_their_process_has_ended():
    out = run_side_by_side(_tensor, {"a": (5,), "b": (3,)}, workers=2)
    assert out["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and out["b"].tolist() == [0.0, 1.0, 2.0]


def test_a_failing_job_stops_the_others_at_once_and_is_named():
    t0 = time.perf_counter()
    with pytest.raises(JobFailed, match="ValueError: a bad job") as info:
        run_side_by_side(_fail_or_sleep, {"sleeper": (False,), "bad": (True,)}, workers=2)
    assert info.value.name == "bad" and "_fail_or_sleep" in info.value.details
    assert time.perf_counter() - t0 < 60  # the sleeper (120 s) was terminated, not waited for
    assert not multiprocessing.active_children()


def test_a_process_that_dies_is_reported_with_its_exit_code():
    with pytest.raises(JobFailed, match="exit code 3 and no result") as info:
        run_side_by_side(_die, {"dies": ()}, workers=1)
    assert info.value.name == "dies"


@pytest.mark.parametrize("workers", [0, 1.5, True])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(ValueError, match="accepted is an integer >= 1"):
        run_side_by_side(_die, {"x": ()}, workers=workers)

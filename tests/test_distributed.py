"""Sweeps on Dask: a LocalCluster of worker processes gives the in-process Dataset bit for bit.

These tests need the ``distributed`` extra (CI installs ``.[test,distributed]``); they are not skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr
from dask.distributed import Client, LocalCluster

import toyregimes as tr
from toyregimes.cli import main
from toyregimes.sweep import sweep

TOY = tr.toys.canonical([1.0, 2.0, 3.0])
KW = dict(k=np.geomspace(0.3, 6, 24), seeds=[0, 3, 5], steps=3000, tail=1000, progress=False)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes over TCP on 127.0.0.1, one thread each."""
    # compile (or load) the kernels in this process first: the workers then load them from the disk cache
    sweep(TOY, k=[1.0], seeds=1, steps=10, tail=5, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cl, Client(cl) as client:
        yield cl, client


def test_import_toyregimes_does_not_import_dask():
    code = (
        "import sys, toyregimes as tr, toyregimes.cli, toyregimes.sweep.checkpoints\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
        "tr.sweep(tr.toys.canonical([1.0]), elr=[0.1], seeds=1, steps=10, tail=5, progress=False)\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] == 'distributed' or m == 'toyregimes.sweep.distributed'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # importing toyregimes imports no dask at all; an in-process sweep never imports dask.distributed
    # (xarray itself imports dask's core when it builds a Dataset and dask is installed)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(scheduler=3), "scheduler must be None, an address"),
        (dict(scheduler=""), "scheduler must be None, an address"),
        (dict(local_cluster=0), "local_cluster"),
        (dict(local_cluster=2, scheduler="tcp://127.0.0.1:8786"), "at most one of scheduler and local_cluster"),
    ],
)
def test_bad_scheduler_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep(TOY, elr=[0.1], seeds=1, steps=10, tail=5, **kwargs)


def test_local_cluster_equals_in_process_bit_for_bit(cluster):
    cl, client = cluster
    assert len(client.scheduler_info()["workers"]) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in client.scheduler_info()["workers"])
    ref = sweep(TOY, **KW)
    # a Client, chunks much smaller than in process (72 points in 10 tasks, finishing in any order)
    xr.testing.assert_identical(sweep(TOY, scheduler=client, chunk_size=8, **KW), ref)
    # an address: connects a Client of its own and closes it
    xr.testing.assert_identical(sweep(TOY, scheduler=cl.scheduler_address, chunk_size=7, **KW), ref)
    # recorded states and the individual constraint
    kw = {**KW, "constraint": "individual", "record_states": True}
    xr.testing.assert_identical(sweep(TOY, scheduler=client, chunk_size=11, **kw), sweep(TOY, **kw))


def test_generic_toy_on_cluster_equals_in_process(cluster):
    _, client = cluster
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    kw = dict(elr=[0.05, 0.4, 0.9], seeds=[1, 2], steps=400, tail=100, record_states=True, progress=False)
    ref = sweep(toy, **kw)  # first: the workers load the compiled kernel from the disk cache
    xr.testing.assert_identical(sweep(toy, scheduler=client, chunk_size=2, **kw), ref)


def test_expression_toy_on_cluster_equals_in_process(cluster):
    # the toy's kernels travel as the source of its generated module; workers load it from the disk cache
    _, client = cluster
    toy = tr.toys.from_expression("a*y**2/(x**2+y**2) + b*v**2/(u**2+v**2)", [["x", "y"], ["u", "v"]],
                                  {"a": 1.0, "b": 2.5}, check_points=2)
    kw = dict(elr=[0.05, 0.3, 0.8], seeds=[1, 2], steps=400, tail=100, record_states=True, progress=False)
    ref = sweep(toy, **kw)
    xr.testing.assert_identical(sweep(toy, scheduler=client, chunk_size=2, **kw), ref)


def test_cli_local_cluster_writes_the_same_file(tmp_path, capsys):
    args = ["sweep", "--alpha", "1", "2", "3", "--num", "40", "--seeds", "4", "--steps", "2000", "--tail", "500",
            "--chunk-size", "16", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "local.nc")]) == 0
    assert main([*args, "--local-cluster", "2", "--out", str(tmp_path / "dask.nc")]) == 0
    assert "computed 10 of 10 chunks (0 resumed)" in capsys.readouterr().out
    assert (tmp_path / "dask.nc").read_bytes() == (tmp_path / "local.nc").read_bytes()
    assert not (tmp_path / "dask.nc.chunks").exists()


@pytest.mark.parametrize("kill", ["one", "all"])
def test_worker_killed_while_holding_a_chunk(cluster, tmp_path, kill):
    # last in this module: the cluster's nannies restart the killed workers.  "all" also loses every
    # copy of the plan's arrays, which the scheduler recomputes from their task.
    _, client = cluster
    kw = dict(k=np.geomspace(0.3, 6, 256), seeds=8, steps=40_000, tail=2000, chunk_size=128, progress=False)
    ref = sweep(TOY, **kw)  # 2048 points in 16 chunks of ~0.1 s on one thread
    client.wait_for_workers(2)
    pids = client.run(os.getpid)
    store = tmp_path / "s.chunks"
    result = {}

    def run():
        try:
            result["ds"] = sweep(TOY, scheduler=client, checkpoint=store, **kw)
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    victims = None
    deadline = time.monotonic() + 120
    while victims is None:
        assert thread.is_alive() and time.monotonic() < deadline, "could not catch a worker holding a chunk"
        if list(store.glob("chunk-*.npz")):  # the workers are warm; now find one computing a chunk
            busy = [addr for addr, keys in client.processing().items()
                    if any("toyregimes-sweep" in str(key) and "chunk" in str(key) for key in keys)]
            if busy:
                victims = busy[:1] if kill == "one" else list(pids)
        time.sleep(0.002)
    for addr in victims:
        os.kill(pids[addr], signal.SIGKILL)
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    xr.testing.assert_identical(result["ds"], ref)
    # the scheduler saw the worker(s) die with chunk tasks assigned, and they were recomputed elsewhere
    # (read on the scheduler: Client.get_events cannot serialise every event of this topic)
    held = client.run_on_scheduler(lambda dask_scheduler: [
        str(key) for _, event in dask_scheduler.get_events("all")
        if event.get("action") == "remove-worker" and event.get("worker") in victims
        for key in event.get("processing-tasks", ())
    ])
    assert any("toyregimes-sweep" in key and "chunk" in key for key in held), held
    assert not set(victims) & set(client.scheduler_info()["workers"])

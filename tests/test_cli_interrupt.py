"""A real Ctrl-C and a real second process against ``toyregimes sweep`` (issue #16).

Each test runs ``python -m toyregimes.cli sweep`` in subprocesses: SIGINT once a chunk is on disk must
give exit 130, the "interrupted; N of M chunks are kept" line and no traceback, and re-running must
compute only the missing chunks and write a file bit-identical to an uninterrupted sweep.  Two sweeps
started on one output must not crash and must leave one result, bit-identical to a single sweep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import toyregimes as tr
from toyregimes.cli import main
from toyregimes.sweep.checkpoints import ChunkStore

REPO = Path(__file__).resolve().parent.parent
# 1600 trajectories in chunks of 32: 50 chunks and 7 kernel calls of 256 trajectories, ~0.5 s each on one
# thread, so a SIGINT sent when the first chunk appears lands while most of the sweep is still to do.
SWEEP = ["sweep", "--alpha", "1", "2", "3", "--num", "200", "--seeds", "8", "--steps", "4000", "--tail", "1000",
         "--chunk-size", "32", "--quiet"]
N_CHUNKS = 50


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.setdefault("NUMBA_NUM_THREADS", "1")
    return env


def _start(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toyregimes.cli", *SWEEP, "--out", str(out)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def _wait_for(predicate, proc, timeout=180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _chunks(folder: Path) -> list:
    return sorted(folder.glob("chunk-*.npz")) if folder.is_dir() else []


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep, run in-process through the same CLI."""
    out = tmp_path_factory.mktemp("ref") / "ref.nc"
    assert main([*SWEEP, "--out", str(out)]) == 0
    return tr.load(out)


def _assert_bit_identical(path: Path, ref):
    ds = tr.load(path)
    assert set(ds.variables) == set(ref.variables)
    for name in ref.variables:
        np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)
    assert ds.attrs == ref.attrs


def test_sigint_keeps_finished_chunks_and_rerun_resumes_bit_identically(tmp_path, reference, capsys):
    out = tmp_path / "sweep.nc"
    folder = Path(f"{out}.chunks")
    proc = _start(out)
    try:
        assert _wait_for(lambda: len(_chunks(folder)) > 0, proc), proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "SystemError" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    match = re.search(r"interrupted; (\d+) of (\d+) chunks are kept", lines[0])
    assert match, stderr
    kept, total = int(match.group(1)), int(match.group(2))
    assert total == N_CHUNKS and 0 < kept < total  # interrupted mid-way, something kept
    assert len(_chunks(folder)) == kept  # what it says is what is on disk
    assert not out.exists() and not Path(f"{out}.part").exists()
    assert not (folder / "lock").exists()  # the lock is released on the way out

    capsys.readouterr()
    assert main([*SWEEP, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"computed {total - kept} of {total} chunks ({kept} resumed)" in text
    _assert_bit_identical(out, reference)
    assert not folder.exists()


def test_two_concurrent_sweeps_on_one_output(tmp_path, reference):
    out = tmp_path / "sweep.nc"
    folder = Path(f"{out}.chunks")
    first = _start(out)
    second = None
    try:
        # start the second once the first holds the lock, so that they really overlap
        assert _wait_for(lambda: (folder / "lock").exists(), first), first.communicate()
        second = _start(out)
        results = [p.communicate(timeout=300) for p in (first, second)]
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
    codes = [first.returncode, second.returncode]
    for (_, stderr), code in zip(results, codes, strict=True):
        assert "Traceback" not in stderr, stderr
        assert code in (0, 2), stderr
    assert 0 in codes
    if 2 in codes:  # the second was refused with a message naming the first process
        stderr = results[codes.index(2)][1]
        assert f"in use by another sweep (pid {first.pid}" in stderr, stderr
    _assert_bit_identical(out, reference)
    assert not folder.exists()


def test_second_sweep_is_refused_while_the_lock_is_held(tmp_path, capsys):
    out = tmp_path / "s.nc"
    store = ChunkStore(f"{out}.chunks")
    store.lock()  # this (live) process holds the lock
    try:
        assert main(["sweep", "--alpha", "1", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10",
                     "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"pid {os.getpid()}" in err and "in use by another sweep" in err
        assert not out.exists()
    finally:
        store.unlock()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, capsys):
    out = tmp_path / "s.nc"
    folder = Path(f"{out}.chunks")
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is now free: the lock it "left" is stale
    import json
    import socket

    (folder / "lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "-",
                                             "token": "x"}))
    assert main(["sweep", "--alpha", "1", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10",
                 "--out", str(out), "--quiet"]) == 0
    assert out.exists() and not folder.exists()


def test_unreadable_lock_is_refused_with_the_file_to_delete(tmp_path, capsys):
    out = tmp_path / "s.nc"
    folder = Path(f"{out}.chunks")
    folder.mkdir()
    (folder / "lock").write_text("")  # e.g. a crash between creating the lock and writing its record
    assert main(["sweep", "--alpha", "1", "--num", "2", "--seeds", "1", "--steps", "20", "--tail", "10",
                 "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{folder / 'lock'}" in err and "delete it" in err

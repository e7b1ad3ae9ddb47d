"""Resumable sweeps: a checkpoint of finished chunks, SIGKILL and re-run, corrupt or foreign chunk files."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

import toyregimes as tr
from toyregimes.cli import _k_grid, main
from toyregimes.sweep import make_plan, sweep
from toyregimes.sweep.checkpoints import ChunkStore

TOY = tr.toys.canonical([1.0, 2.0, 3.0])
# 12 x 3 = 36 points in 8 chunks of 5 (the last holds 1)
KW = dict(k=np.geomspace(0.3, 6, 12), seeds=[0, 3, 5], steps=600, tail=200, chunk_size=5, progress=False)
N_CHUNKS = 8


@pytest.fixture(scope="module")
def reference():
    return sweep(TOY, **{**KW, "chunk_size": 4096})


@pytest.fixture
def store_dir(tmp_path):
    """A complete checkpoint of the KW sweep."""
    path = tmp_path / "s.nc.chunks"
    sweep(TOY, checkpoint=path, **KW)
    return path


def _chunk_files(path):
    return sorted(p.name for p in path.glob("chunk-*.npz"))


# ----------------------------------------------------------------------------- resuming
def test_checkpoint_resumes_only_missing_chunks(tmp_path, reference):
    path = tmp_path / "s.chunks"
    first = ChunkStore(path)
    xr.testing.assert_identical(sweep(TOY, checkpoint=first, **KW), reference)
    assert sorted(first.computed) == list(range(N_CHUNKS)) and first.resumed == []
    assert _chunk_files(path) == [f"chunk-{i:06d}.npz" for i in range(N_CHUNKS)]

    for index in (1, 4, 7):  # lost, as chunks in flight are when the process dies
        first.chunk_path(index).unlink()
    (path / ".chunk-000004.npz.999.tmp").write_bytes(b"half a chunk")  # a write cut short: ignored
    again = ChunkStore(path)
    xr.testing.assert_identical(sweep(TOY, checkpoint=again, **KW), reference)
    assert sorted(again.computed) == [1, 4, 7] and again.resumed == [0, 2, 3, 5, 6]

    done = ChunkStore(path)
    xr.testing.assert_identical(sweep(TOY, checkpoint=done, **KW), reference)
    assert done.computed == [] and done.resumed == list(range(N_CHUNKS))


def test_checkpoint_generic_toy_with_states(tmp_path):
    # the single-run fallback and the recorded states go through the same store
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=0)
    kw = dict(elr=[0.05, 0.4, 0.9], seeds=[1, 2], steps=300, tail=100, chunk_size=4, record_states=True,
              progress=False)
    ref = sweep(toy, **kw)
    path = tmp_path / "g.chunks"
    sweep(toy, checkpoint=path, **kw)
    (path / "chunk-000000.npz").unlink()
    store = ChunkStore(path)
    xr.testing.assert_identical(sweep(toy, checkpoint=store, **kw), ref)
    assert store.computed == [0] and store.resumed == [1]


def test_fingerprint_covers_inputs_not_execution():
    base = make_plan(TOY, **{k: v for k, v in KW.items() if k != "progress"}).fingerprint_params()
    same = make_plan(TOY, **{k: v for k, v in KW.items() if k != "progress"}).fingerprint_params()
    assert base == same
    for change in (dict(steps=601), dict(tail=201), dict(seeds=[0, 3, 6]), dict(constraint="individual"),
                   dict(lyapunov=False), dict(chunk_size=6), dict(period_tol=2e-3), dict(record_states=True),
                   dict(k=np.nextafter(KW["k"], 1.0))):
        kw = {k: v for k, v in KW.items() if k != "progress"}
        kw.update(change)
        assert make_plan(TOY, **kw).fingerprint_params() != base, change
    other_toy = make_plan(tr.toys.canonical([1.0, 2.0, 3.5]), **{k: v for k, v in KW.items() if k != "progress"})
    assert other_toy.fingerprint_params() != base


# ----------------------------------------------------------------------------- refusing to mix
def test_changed_parameters_are_refused(store_dir):
    before = {p.name: p.read_bytes() for p in store_dir.iterdir()}
    with pytest.raises(ValueError, match=r"was started with different parameters \(steps: 600 -> 700\); "
                                         r"use a new --out or delete .*s\.nc\.chunks"):
        sweep(TOY, checkpoint=store_dir, **{**KW, "steps": 700})
    with pytest.raises(ValueError, match=r"chunk_size: 5 -> 6"):
        sweep(TOY, checkpoint=store_dir, **{**KW, "chunk_size": 6})
    assert {p.name: p.read_bytes() for p in store_dir.iterdir()} == before  # nothing touched


def test_directory_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "mine"
    path.mkdir()
    (path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a toyregimes chunk store"):
        sweep(TOY, checkpoint=path, **KW)


def _corrupt_truncate(path, _):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt_garbage(path, _):
    path.write_bytes(os.urandom(path.stat().st_size))


def _corrupt_pickle(path, _):
    with open(path, "wb") as fh:  # an object array: numpy would need pickle to read it
        np.savez(fh, mean_loss=np.array([object()], dtype=object))


def _corrupt_values(path, _):
    # a well-formed archive with its metadata intact, one value changed: the checksum catches it
    with np.load(path, allow_pickle=False) as z:
        data = {name: z[name] for name in z.files}
    data["mean_loss"] = data["mean_loss"].copy()
    data["mean_loss"][0] = np.nextafter(data["mean_loss"][0], np.inf)
    with open(path, "wb") as fh:
        np.savez(fh, **data)


def _foreign_sweep(path, tmp_path):
    # the same chunk of a sweep with other parameters (steps) copied in
    other = tmp_path / "other.chunks"
    sweep(TOY, checkpoint=other, **{**KW, "steps": 500})
    shutil.copyfile(other / path.name, path)


def _misplaced(path, _):
    shutil.copyfile(path.with_name("chunk-000001.npz"), path)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (_corrupt_truncate, "is corrupt or not a chunk file"),
        (_corrupt_garbage, "is corrupt or not a chunk file"),
        (_corrupt_pickle, "is corrupt or not a chunk file .*pickle"),
        (_corrupt_values, "is corrupt: its arrays do not match their checksum"),
        (_foreign_sweep, "belongs to a different sweep"),
        (_misplaced, r"holds chunk 1 \(points 5..10\), not chunk 2 \(points 10..15\)"),
    ],
)
def test_corrupt_or_foreign_chunk_is_reported_not_merged(store_dir, tmp_path, damage, match):
    target = store_dir / "chunk-000002.npz"
    damage(target, tmp_path)
    damaged = target.read_bytes()
    store = ChunkStore(store_dir)
    with pytest.raises(ValueError, match=rf"chunk file .*chunk-000002\.npz {match}.*never merged: delete it"):
        sweep(TOY, checkpoint=store, **KW)
    assert store.computed == [] and target.read_bytes() == damaged  # refused before computing anything
    target.unlink()  # the documented remedy: that chunk alone is recomputed
    store = ChunkStore(store_dir)
    sweep(TOY, checkpoint=store, **KW)
    assert store.computed == [2]


def test_chunk_outside_the_layout_is_refused(store_dir):
    shutil.copyfile(store_dir / "chunk-000001.npz", store_dir / "chunk-000099.npz")
    with pytest.raises(ValueError, match=r"chunk-000099\.npz does not belong to this sweep's layout of 8 chunks"):
        sweep(TOY, checkpoint=store_dir, **KW)


# ----------------------------------------------------------------------------- the CLI
CLI_ARGS = ["--alpha", "1", "2", "3", "--k-min", "0.3", "--k-max", "6", "--num", "12", "--seeds", "3",
            "--steps", "600", "--tail", "200", "--chunk-size", "5", "--quiet"]


def test_cli_reports_a_corrupt_chunk_in_one_line(tmp_path, capsys):
    out = tmp_path / "s.nc"
    store = tmp_path / "s.nc.chunks"
    kw = dict(k=_k_grid(0.3, 6, 12), seeds=3, steps=600, tail=200, chunk_size=5, progress=False)
    sweep(TOY, checkpoint=store, **kw)  # as an interrupted CLI run leaves it (all chunks done, no file yet)
    (store / "chunk-000003.npz").write_bytes(b"PK\x03\x04 not really")
    assert main(["sweep", *CLI_ARGS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chunk-000003.npz is corrupt" in err and not out.exists()

    (store / "chunk-000003.npz").unlink()
    assert main(["sweep", *CLI_ARGS, "--out", str(out)]) == 0
    assert "computed 1 of 8 chunks (7 resumed)" in capsys.readouterr().out
    assert not store.exists()  # removed once the file is written
    xr.testing.assert_identical(tr.load(out), sweep(TOY, **kw))


def test_cli_refuses_changed_parameters(tmp_path, capsys):
    out = tmp_path / "s.nc"
    sweep(TOY, checkpoint=tmp_path / "s.nc.chunks", k=_k_grid(0.3, 6, 12), seeds=3, steps=500, tail=200,
          chunk_size=5, progress=False)
    assert main(["sweep", *CLI_ARGS, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"was started with different parameters \(steps: 500 -> 600\); use a new --out or delete", err)


def test_sigkill_then_rerun_gives_the_identical_file(tmp_path):
    # 4096 trajectories x 30000 steps in 8 chunks of 512 (one kernel call each on 2 threads, ~0.3 s)
    args = ["--alpha", "1", "2", "3", "--k-min", "0.2", "--k-max", "20", "--num", "512", "--seeds", "8",
            "--steps", "30000", "--tail", "5000", "--chunk-size", "512", "--quiet"]
    n_chunks = 8
    ref = sweep(TOY, k=_k_grid(0.2, 20, 512), seeds=8, steps=30_000, tail=5_000, progress=False)  # warms the cache
    tr.save(ref, tmp_path / "ref.nc")

    out = tmp_path / "sweep.nc"
    chunks = tmp_path / "sweep.nc.chunks"
    cmd = [sys.executable, "-m", "toyregimes.cli", "sweep", *args, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not list(chunks.glob("chunk-*.npz")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no chunk written in time"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    kept = len(list(chunks.glob("chunk-*.npz")))
    assert 0 < kept < n_chunks and not out.exists()

    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"computed {n_chunks - kept} of {n_chunks} chunks ({kept} resumed)" in done.stdout
    assert out.read_bytes() == (tmp_path / "ref.nc").read_bytes()
    xr.testing.assert_identical(tr.load(out), tr.load(tmp_path / "ref.nc"))
    assert not chunks.exists()

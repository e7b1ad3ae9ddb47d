"""Minibatch gradients of stochastic toys on the sphere: simulate(batch=) and sweep(batch=).

Independent checks: a numpy twin that averages the per-sample Rayleigh gradients (not the matrices), the
full batch (all samples) reproducing the base toy, the minibatch draws' distribution, and every sweep point
being the ``simulate`` run of its seed bit for bit in any chunking.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import toyregimes as tr
from toyregimes.kernels import noise
from toyregimes.simulate import initial_point

BASE = tr.toys.rayleigh([[0.0, 1.0, 3.0], [0.0, 2.0]], rotate=True, seed=1)
TOY = tr.toys.stochastic(BASE, n_samples=10, spread=0.6, seed=2)


# ----------------------------------------------------------------------------- the draws
def test_minibatches_are_distinct_in_range_and_uniform():
    idx = noise.minibatch_indices(noise.batch_key(5), 20_000, 10, 3)
    assert idx.shape == (20_000, 3)
    assert idx.min() >= 0 and idx.max() < 10
    assert all(len(set(row)) == 3 for row in idx[:2000])  # without replacement
    counts = np.bincount(idx.ravel(), minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-3
    # every position of the batch is uniform too (a biased shuffle would favour some samples first)
    assert stats.chisquare(np.bincount(idx[:, 0], minlength=10)).pvalue > 1e-3


def test_a_minibatch_depends_only_on_key_and_step():
    key = noise.batch_key(3)
    long = noise.minibatch_indices(key, 200, 10, 4)
    assert np.array_equal(noise.minibatch_indices(key, 50, 10, 4), long[:50])
    assert not np.array_equal(noise.minibatch_indices(noise.batch_key(4), 200, 10, 4), long)
    # and not the gradient noise's key: the two streams are independent
    assert noise.batch_key(3) != noise.run_key(3)


# ----------------------------------------------------------------------------- simulate
def _twin(toy, elr, steps, seed, batch):
    """numpy PGD with the mean of the per-sample gradients over simulate's minibatches."""
    theta = initial_point(toy, seed)
    idx = noise.minibatch_indices(noise.batch_key(seed), steps, toy.samples.shape[0], batch)
    off = toy.offsets
    losses = []
    for t in range(steps):
        g = np.zeros_like(theta)
        for s in idx[t]:
            for i in range(toy.n_groups):
                x = theta[off[i]:off[i + 1]]
                m = toy.samples[s, i, :x.size, :x.size]
                r2 = x @ x
                g[off[i]:off[i + 1]] += 2 * (m @ x - (x @ m @ x / r2) * x) / r2
        g /= batch
        losses.append(sum(theta[off[i]:off[i + 1]] @ toy.mats[i, :off[i + 1] - off[i], :off[i + 1] - off[i]]
                          @ theta[off[i]:off[i + 1]] / (theta[off[i]:off[i + 1]] @ theta[off[i]:off[i + 1]])
                          for i in range(toy.n_groups)))
        y = theta - elr * g
        theta = y / np.linalg.norm(y)
    return np.array(losses), theta


@pytest.mark.parametrize("batch", [1, 3])
def test_simulate_equals_the_numpy_twin(batch):
    # 20 steps: rounding differences (mean of the matrices in the kernel, of the gradients here) grow along
    # these chaotic runs, measured 1e-14 at step 16, 8e-13 at 20 and 7e-11 at 36 for batch = 1
    run = tr.simulate(TOY, elr=0.4, steps=20, seed=7, batch=batch, sharpness=False)
    losses, final = _twin(TOY, 0.4, 20, 7, batch)
    np.testing.assert_allclose(run.loss.values, losses, rtol=0, atol=1e-11)
    np.testing.assert_allclose(TOY.from_rows(run.final_state.values), final, rtol=0, atol=1e-11)
    # negative control: the twin with another run's minibatches is far off
    _, other = _twin(TOY, 0.4, 20, 8, batch)
    assert np.max(np.abs(other - final)) > 1e-3


def test_the_full_batch_is_the_base_toy():
    # the samples are centred on the base matrices, so a batch of all of them is the full-batch gradient (to
    # rounding: below the threshold elr < 1 / sum(alpha_eff) = 0.2, where rounding differences do not grow)
    full = tr.simulate(TOY, elr=0.1, steps=500, seed=2, batch=10, sharpness=False)
    base = tr.simulate(BASE, elr=0.1, steps=500, seed=2, sharpness=False)
    np.testing.assert_allclose(full.loss.values, base.loss.values, rtol=0, atol=1e-12)
    noisy = tr.simulate(TOY, elr=0.1, steps=500, seed=2, batch=2, sharpness=False)
    assert np.max(np.abs(noisy.loss.values - base.loss.values)) > 1e-2  # a small batch is really noisy
    assert noisy.attrs["batch"] == 2 and base.attrs["batch"] == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"batch": 11}, "batch must be in"),
    ({"batch": 0}, "batch"),
    ({"batch": 2, "lyapunov": True}, "lyapunov"),
])
def test_bad_batches_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tr.simulate(TOY, elr=0.4, steps=10, **kwargs)
    with pytest.raises(ValueError, match=match):
        tr.sweep(TOY, elr=[0.4], seeds=1, steps=10, tail=5, progress=False, **{"lyapunov": False, **kwargs})


def test_a_batch_needs_a_stochastic_toy():
    with pytest.raises(ValueError, match="stochastic toy"):
        tr.simulate(BASE, elr=0.4, steps=10, batch=2)
    with pytest.raises(ValueError, match="stochastic toy"):
        tr.sweep(BASE, elr=[0.4], seeds=1, steps=10, tail=5, lyapunov=False, batch=2, progress=False)


# ----------------------------------------------------------------------------- sweep
def test_sweep_points_are_simulate_runs_in_any_chunking():
    kw = dict(elr=[0.1, 0.6, 2.0], seeds=[0, 9], steps=1500, tail=500, lyapunov=False, batch=3,
              record_states=True, progress=False)
    res = tr.sweep(TOY, **kw)
    assert res.attrs["kernel"] == "user_batched" and res.attrs["batch"] == 3
    assert np.array_equal(res.final_state.values, tr.sweep(TOY, chunk_size=1, **kw).final_state.values)
    for i, e in enumerate(kw["elr"]):
        for j, s in enumerate(kw["seeds"]):
            run = tr.simulate(TOY, elr=e, steps=1500, seed=s, batch=3, tail=500, sharpness=False)
            assert np.array_equal(TOY.from_rows(run.final_state.values), res.final_state.values[i, j])
            assert res.mean_loss.values[i, j] == pytest.approx(float(run.loss[-500:].mean()), abs=1e-12)
    full = tr.sweep(TOY, **{**kw, "batch": None})
    assert full.attrs["kernel"] == "rayleigh_batched"
    assert not np.array_equal(full.final_state.values, res.final_state.values)  # the minibatches are really there


# ----------------------------------------------------------------------------- the minibatch noise map
def test_minibatch_noise_brings_divergence_to_smaller_k():
    from toyregimes.studies.divergence import divergence_onset, minibatch_sweep

    toy = tr.toys.stochastic(tr.toys.canonical([1.0, 2.0, 3.0]), n_samples=16, spread=1.0, seed=3)
    ks = np.array([1.5, 5.0, 15.0, 60.0])
    ds = minibatch_sweep(toy, ks, [1, 16], seeds=2, steps=3000, tail=1500, progress=False)
    assert ds.attrs["toyregimes_kind"] == "minibatch_sweep" and list(ds.batch.values) == [1, 16]
    frac = ds.loss_fraction.values  # (k, batch, seed)
    # the smallest batch sits closer to the random level than the full batch at every k and seed ...
    assert np.all(frac[:, 0, :] > frac[:, 1, :])
    # ... and the full batch is the deterministic toy: (1 - 1/k) on the 2-cycle at k = 1.5 (claim coupled_equilibrium)
    assert frac[0, 1, :] == pytest.approx(1 - 1 / 1.5, abs=1e-3)
    onset = divergence_onset(ds)
    assert onset.dims == ("batch",) and onset.sel(batch=1) <= onset.sel(batch=16)


def test_minibatch_sweep_refuses_a_deterministic_toy():
    from toyregimes.studies.divergence import minibatch_sweep

    with pytest.raises(ValueError, match="stochastic toy"):
        minibatch_sweep(BASE, [1.0], [1], seeds=1, steps=10, tail=5)
    with pytest.raises(ValueError, match="batch"):
        minibatch_sweep(TOY, [1.0], [0], seeds=1, steps=10, tail=5)

"""Tier 2 invariants of the toy library: scale invariance, gradients, Hessians, sharpness."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toyregimes as tr

from . import reference as ref

alphas = st.lists(st.floats(0.05, 20.0), min_size=1, max_size=5)
scales = st.floats(1e-3, 1e3)


def _point(dim, seed):
    return np.random.default_rng(seed).standard_normal(dim)


def _toys():
    return [
        tr.toys.canonical([1.0, 2.0, 3.0]),
        tr.toys.rayleigh([[0, 1, 3], [0.5, 2]]),
        tr.toys.rayleigh([[0, 1, 3], [-1, 2], [0, 0.2, 0.4, 5]], rotate=True, seed=3),
    ]


@given(alpha=alphas, seed=st.integers(0, 10_000), c=scales)
def test_canonical_matches_angle_form_and_is_scale_invariant(alpha, seed, c):
    toy = tr.toys.canonical(alpha)
    x = _point(toy.dim, seed)
    loss, grad = ref.canonical_loss_grad(x, np.array(alpha))
    assert toy.value(x) == pytest.approx(loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(toy.gradient(x), grad, rtol=1e-10, atol=1e-12 * np.abs(grad).max())
    # F(c theta) = F(theta) and grad F(c theta) = grad F(theta) / c
    assert toy.value(c * x) == pytest.approx(toy.value(x), rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(toy.gradient(c * x) * c, toy.gradient(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("toy", _toys(), ids=["canonical", "rayleigh", "rayleigh-rotated"])
@given(seed=st.integers(0, 10_000), log_scales=st.lists(st.floats(-3, 3), min_size=4, max_size=4))
def test_euler_identity_per_group_and_group_scale_invariance(toy, seed, log_scales):
    x = _point(toy.dim, seed)
    g = toy.gradient(x)
    for sl in ref.group_slices(toy.dims):
        assert abs(g[sl] @ x[sl]) <= 1e-12 * max(1.0, np.linalg.norm(g[sl]) * np.linalg.norm(x[sl]))
    per_group = np.repeat(np.exp(log_scales[: toy.n_groups]), toy.dims)
    assert toy.value(per_group * x) == pytest.approx(toy.value(x), rel=1e-11, abs=1e-12)


@pytest.mark.parametrize("toy", _toys(), ids=["canonical", "rayleigh", "rayleigh-rotated"])
@given(seed=st.integers(0, 10_000))
def test_gradient_and_hessian_match_finite_differences(toy, seed):
    x = _point(toy.dim, seed)
    x /= np.linalg.norm(x)
    h = 1e-6
    fd = np.array([(toy.value(x + h * e) - toy.value(x - h * e)) / (2 * h) for e in np.eye(toy.dim)])
    np.testing.assert_allclose(toy.gradient(x), fd, atol=1e-6 * max(1.0, np.abs(fd).max()))

    def lg(z):
        return toy.value(z), toy.gradient(z)

    np.testing.assert_allclose(toy.hessian(x), ref.fd_hessian(lg, x), atol=1e-5 * max(1, np.abs(toy.hessian(x)).max()))


@pytest.mark.parametrize("constraint", ["total", "individual"])
@pytest.mark.parametrize("toy", _toys(), ids=["canonical", "rayleigh", "rayleigh-rotated"])
@given(seed=st.integers(0, 10_000))
def test_sharpness_matches_null_space_twin(toy, constraint, seed):
    x = _point(toy.dim, seed)
    x /= np.linalg.norm(x)
    groups, total = toy.sharpness(x, constraint)

    def lg(z):
        return ref.rayleigh_loss_grad(z, [toy.mats[i, :d, :d] for i, d in enumerate(toy.dims)])

    want_groups, want_total = ref.sphere_sharpness(ref.fd_hessian(lg, x), x, toy.dims, constraint)
    # finite differences lose relative accuracy ~1e-5 where a group's radius is tiny (huge sharpness)
    np.testing.assert_allclose(groups, want_groups, rtol=1e-4, atol=1e-6)
    assert total == pytest.approx(want_total, rel=1e-4, abs=1e-6)


@given(alpha=alphas, shares=st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5))
def test_sharpness_at_a_minimum_is_two_alpha_over_r2(alpha, shares):
    toy = tr.toys.canonical(alpha)
    r2 = np.array(shares[: toy.n_groups]) / np.sum(shares[: toy.n_groups])
    x = toy.minimum(r2)
    assert toy.value(x) == pytest.approx(0.0, abs=1e-15)
    groups, _ = toy.sharpness(x, "individual")
    np.testing.assert_allclose(groups, 2 * np.array(alpha) / r2, rtol=1e-10)


def test_minimum_of_rotated_rayleigh_is_smallest_eigenvalue():
    toy = tr.toys.rayleigh([[0.3, 1, 3], [-1, 2]], rotate=True, seed=7)
    x = toy.minimum([0.25, 0.75])
    assert toy.value(x) == pytest.approx(0.3 - 1, abs=1e-12)
    np.testing.assert_allclose(toy.gradient(x), 0, atol=1e-12)
    np.testing.assert_allclose(toy.alpha_eff, [3 - 0.3, 2 - (-1)])


@pytest.mark.parametrize("toy", _toys(), ids=["canonical", "rayleigh", "rayleigh-rotated"])
def test_random_level_matches_monte_carlo(toy):
    pts = np.random.default_rng(0).standard_normal((20_000, toy.dim))
    values = np.array([toy.value(p) for p in pts])
    # standard error of the mean bounds the tolerance (5 sigma)
    assert toy.random_level == pytest.approx(values.mean(), abs=5 * values.std() / np.sqrt(values.size))


def test_rotation_is_reproducible_and_changes_matrices():
    a = tr.toys.rayleigh([[0, 1, 3]], rotate=True, seed=1)
    b = tr.toys.rayleigh([[0, 1, 3]], rotate=True, seed=1)
    c = tr.toys.rayleigh([[0, 1, 3]], rotate=True, seed=2)
    np.testing.assert_array_equal(a.mats, b.mats)
    assert not np.allclose(a.mats, c.mats)
    np.testing.assert_allclose(np.linalg.eigvalsh(a.mats[0]), [0, 1, 3], atol=1e-12)


def test_from_spec_round_trip():
    toy = tr.toys.rayleigh([[0, 1, 3], [0, 2]], rotate=True, seed=5)
    again = tr.toys.from_spec(toy.spec_json)
    np.testing.assert_array_equal(toy.mats, again.mats)


# ----------------------------------------------------------------------------- custom toys
@numba.njit
def _coupled_value(x):
    # two groups in R^2: sin^2 of each angle plus a coupling in the difference of angles
    r1 = x[0] ** 2 + x[1] ** 2
    r2 = x[2] ** 2 + x[3] ** 2
    s1 = x[1] ** 2 / r1
    cross = (x[0] * x[3] - x[1] * x[2]) ** 2 / (r1 * r2)  # sin^2(phi2 - phi1)
    return s1 + 2.0 * x[3] ** 2 / r2 + 0.5 * cross


@numba.njit
def _coupled_grad(x):
    r1 = x[0] ** 2 + x[1] ** 2
    r2 = x[2] ** 2 + x[3] ** 2
    g = np.zeros(4)
    g[0] = -2 * x[0] * x[1] ** 2 / r1**2
    g[1] = 2 * x[1] * x[0] ** 2 / r1**2
    g[2] = -4 * x[2] * x[3] ** 2 / r2**2
    g[3] = 4 * x[3] * x[2] ** 2 / r2**2
    det = x[0] * x[3] - x[1] * x[2]
    q = det**2 / (r1 * r2)
    g[0] += 0.5 * (2 * det * x[3] / (r1 * r2) - q * 2 * x[0] / r1)
    g[1] += 0.5 * (-2 * det * x[2] / (r1 * r2) - q * 2 * x[1] / r1)
    g[2] += 0.5 * (-2 * det * x[1] / (r1 * r2) - q * 2 * x[2] / r2)
    g[3] += 0.5 * (2 * det * x[0] / (r1 * r2) - q * 2 * x[3] / r2)
    return g


def test_custom_coupled_toy_is_accepted_and_simulates():
    toy = tr.toys.custom(_coupled_value, _coupled_grad, dims=[2, 2], name="coupled")
    x = _point(4, 0)
    assert toy.value(x) == pytest.approx(_coupled_value(x))
    run = tr.simulate(toy, elr=0.05, steps=200, seed=1)
    np.testing.assert_allclose(run.sq_norm.sum("group"), 1.0, atol=1e-12)
    # sharpness through finite differences of the user gradient agrees with the null-space twin
    xs = x / np.linalg.norm(x)
    groups, total = toy.sharpness(xs)
    want_groups, want_total = ref.sphere_sharpness(
        ref.fd_hessian(lambda z: (0.0, _coupled_grad(z)), xs), xs, toy.dims, "total"
    )
    np.testing.assert_allclose(groups, want_groups, rtol=1e-4, atol=1e-6)
    assert total == pytest.approx(want_total, rel=1e-4, abs=1e-6)


def test_custom_rejects_non_scale_invariant_function():
    with pytest.raises(ValueError, match="not scale-invariant"):
        tr.toys.custom(lambda x: x[0] ** 2 + x[1] ** 2, lambda x: 2 * x, dims=[2])


def test_custom_rejects_wrong_gradient():
    with pytest.raises(ValueError, match="finite differences|grad F"):
        tr.toys.custom(
            lambda x: x[1] ** 2 / (x[0] ** 2 + x[1] ** 2),
            lambda x: np.array([-x[1], x[0]]) / (x[0] ** 2 + x[1] ** 2),  # tangent but wrong size
            dims=[2],
        )


def test_custom_rejects_value_that_is_not_a_number():
    with pytest.raises(ValueError, match="custom toy"):
        tr.toys.custom(lambda x: {"a": x}, lambda x: x, dims=[2])


def test_custom_rejects_uncompilable_function():
    with pytest.raises(ValueError, match="custom toy"):
        tr.toys.custom(lambda x: object(), lambda x: x, dims=[2])


# ----------------------------------------------------------------------------- expression toys
@settings(max_examples=6)  # every example compiles two Numba functions (~0.5 s)
@given(alpha=st.lists(st.floats(0.1, 10.0), min_size=1, max_size=3), seed=st.integers(0, 1000))
def test_expression_toy_equals_canonical(alpha, seed):
    text = " + ".join(f"a{i}*y{i}**2/(x{i}**2 + y{i}**2)" for i in range(len(alpha)))
    groups = [[f"x{i}", f"y{i}"] for i in range(len(alpha))]
    toy = tr.toys.from_expression(text, groups, {f"a{i}": a for i, a in enumerate(alpha)}, check_points=2)
    ref_toy = tr.toys.canonical(alpha)
    x = _point(toy.dim, seed)
    assert toy.value(x) == pytest.approx(ref_toy.value(x), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(toy.gradient(x), ref_toy.gradient(x), rtol=1e-10, atol=1e-13)


def test_expression_toy_round_trips_through_its_spec_and_simulates():
    toy = tr.toys.from_expression("sin(atan2(y, x))^2 + 0.5*(x*v - y*u)**2/((x**2+y**2)*(u**2+v**2))",
                                  [["x", "y"], ["u", "v"]])
    again = tr.toys.from_spec(toy.spec_json)
    x = _point(4, 1)
    assert again.value(x) == toy.value(x)
    np.testing.assert_array_equal(again.gradient(x), toy.gradient(x))
    run = tr.simulate(toy, elr=0.2, steps=100, seed=0)
    np.testing.assert_allclose(run.sq_norm.sum("group"), 1.0, atol=1e-13)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('__import__("os").system("true")', "Call is not allowed"),
        ("x.real", "Attribute"),
        ("x if y else 0", "IfExp"),
        ("[x]", "List"),
        ("y**2/(x**2+y**2) + z", "unknown name 'z'"),
        ("sin(x=1)", "positional"),
        ("x**2 + y**2", "not scale-invariant"),
        ("y**2/(x**2+", "syntax"),
        ("", "non-empty"),
    ],
)
def test_expression_parser_refuses_everything_outside_the_grammar(text, match):
    with pytest.raises(ValueError, match=match):
        tr.toys.from_expression(text, [["x", "y"]])


def test_expression_symbol_names_are_checked():
    with pytest.raises(ValueError, match="reserved"):
        tr.toys.from_expression("theta", [["theta", "y"]])
    with pytest.raises(ValueError, match="groups"):
        tr.toys.from_expression("y**2/(x**2+y**2)", [["x"]])

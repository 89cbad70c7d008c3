"""Property-based tests of the module's argument checking (hypothesis; issue 23).

Every entry point is called with hostile arguments: wrong types, wrong shapes, other dtypes (int, float32,
float16, bool, complex, object, str), non-contiguous, reversed and Fortran-ordered arrays, empty arrays,
NaN/inf/huge entries, negative/zero/huge sizes and tolerances, unknown names, None. The properties:

- a call either succeeds with results of the right shape (finite where the input is), or raises TypeError or
  ValueError whose message names the argument; never another exception (SystemError, RuntimeError,
  MemoryError with a C++ message), never a crash or a hang (small sizes and budgets keep every example fast);
- an array argument is read as numpy's C-contiguous float64 conversion of it: a strided, reversed or
  Fortran-ordered array, another dtype or a list gives the bits of its float64 contiguous copy, and what
  numpy cannot convert to a 1-D (2-D) float64 array of the right size is refused;
- a float option that is NaN, infinite or negative is refused naming the keyword; a name (solver, step,
  init, ...) that is not one of the documented ones is refused naming the keyword and listing them.

Deterministic: derandomize=True and no example database. A real bug found here is a separate
xfail(strict=True) test with its minimal failing call, so that the other properties keep guarding.
"""
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")  # python3-hypothesis (Debian)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import gradflow  # noqa: E402

NAN, INF = float("nan"), float("inf")


def profile(examples):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


# Messages that mean a C++ or binding internal reached the user.
LEAKS = ("std::", "bad_alloc", "PYBIND11", "Unable to cast Python instance", "terminate called", "what():",
         "basic_string", "Eigen", "CallbackError")


def call(fn, *args, **kwargs):
    """(result, None) or (None, exception); numpy's conversion warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs), None
        except Exception as e:  # noqa: BLE001 - classified by the caller
            return None, e


def assert_refusal(error, *names):
    """A TypeError or ValueError whose message names one of names, without C++ internals."""
    assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {error}"
    message = str(error)
    assert any(name in message for name in names), f"message does not name {names}: {message!r}"
    for leak in LEAKS:
        assert leak not in message, f"C++ internals in the message: {message!r}"


def as_float64(x, ndim):
    """numpy's C-contiguous float64 conversion of x with ndim dimensions, or None when there is none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = np.array(x, dtype=np.float64, order="C")
        except Exception:  # noqa: BLE001
            return None
    return a if a.ndim == ndim else None


def same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------------------------------

SPECIAL = [NAN, INF, -INF, 1e308, -1e308, 5e-324, -0.0, 0.0]
entries = st.one_of(st.floats(min_value=-3.0, max_value=3.0), st.sampled_from(SPECIAL))
moderate = st.floats(min_value=-3.0, max_value=3.0)
DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex-real", "object", "str"]
LAYOUTS = ["contiguous", "strided", "reversed", "list", "tuple"]


def with_dtype(values, dtype):
    with np.errstate(all="ignore"):
        return _with_dtype(values, dtype)


def _with_dtype(values, dtype):
    v = np.asarray(values, dtype=np.float64)
    if dtype in ("int64", "int8", "uint8"):
        return np.clip(np.nan_to_num(np.round(v), posinf=5, neginf=-5), -5, 5).astype(dtype)
    if dtype == "bool":
        return v > 0
    if dtype == "complex-real":  # complex with zero imaginary parts: the same numbers
        return v.astype(np.complex128)
    if dtype == "object":
        return np.array([float(x) for x in v], dtype=object)
    if dtype == "str":
        return np.array([repr(float(x)) for x in v])
    return v.astype(dtype)


def with_layout(a, layout):
    if layout == "strided":
        wide = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
        wide[::2] = a
        return wide[::2]
    if layout == "reversed":
        return a[::-1].copy()[::-1]
    if layout == "list":
        return a.tolist()
    if layout == "tuple":
        return tuple(a.tolist())
    return a


@st.composite
def vectors(draw, p, elements=entries):
    """An argument that should be a vector of p float64: mostly arrays of every dtype and layout, some of
    the wrong length or rank, and some not arrays at all."""
    kind = draw(st.sampled_from(["vector"] * 6 + ["length", "rank", "other"]))
    if kind == "other":
        return draw(st.sampled_from([None, 1.5, 3, "abc", "", b"\x00", {"a": 1}, object(), [], [[1.0, 2.0], [3.0]],
                                     [1.0, "x", 2.0], np.float64(1.0), np.array(2.0), [None] * p, ["1"] * p]))
    n = p if kind != "length" else draw(st.sampled_from([0, 1, p - 1, p + 1, 2 * p]))
    values = draw(st.lists(elements, min_size=n, max_size=n))
    a = with_dtype(values, draw(st.sampled_from(DTYPES)))
    if kind == "rank":
        a = draw(st.sampled_from([a.reshape(1, -1), a.reshape(-1, 1), np.asfortranarray(np.stack([a, a]))]))
    return with_layout(a, draw(st.sampled_from(LAYOUTS)))


@st.composite
def matrices(draw, rows, cols, elements=moderate, square_forms=False):
    """A matrix argument: every dtype, C, Fortran and strided layouts; sometimes the wrong shape. With
    square_forms, a square one is often made symmetric (M + M^T) or positive semidefinite (M M^T)."""
    r = draw(st.sampled_from([rows] * 5 + [0, rows + 1]))
    c = draw(st.sampled_from([cols] * 5 + [0, cols + 1]))
    values = np.array(draw(st.lists(elements, min_size=r * c, max_size=r * c)), dtype=np.float64).reshape(r, c)
    if square_forms and r == c:
        form = draw(st.sampled_from(["raw", "symmetric", "gram", "gram", "gram"]))
        values = {"raw": values, "symmetric": values + values.T, "gram": values @ values.T}[form]
    dtype = draw(st.sampled_from(["float64", "float64", "float32", "int64", "complex-real", "object"]))
    a = with_dtype(values.ravel(), dtype).reshape(r, c)
    layout = draw(st.sampled_from(["C", "F", "strided", "transposed-view", "list", "1-D", "3-D"]))
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        wide = np.zeros((r, 2 * c), dtype=a.dtype)
        wide[:, ::2] = a
        return wide[:, ::2]
    if layout == "transposed-view":
        return np.ascontiguousarray(a.T).T
    if layout == "list":
        return a.tolist()
    if layout == "1-D":
        return a.ravel()
    if layout == "3-D":
        return a[None]
    return a


HOSTILE_SCALARS = [0, 0.0, -0.0, -1, -1.0, 1, 1e-300, 5e-324, 1e300, 1.7976931348623157e308, NAN, INF, -INF,
                   2**63, -2**63, 2**64, True, False, None, "1", "", 1j, [1.0], np.float64(0.5), np.int64(3),
                   np.float32(0.25), object()]
scalars = st.one_of(st.sampled_from(HOSTILE_SCALARS), st.floats(), st.integers(-2**70, 2**70))
sizes = st.one_of(st.sampled_from([0, -1, -2**63, 2**63, 2**64, 1.5, "3", None, True, np.int64(2)]),
                  st.integers(-5, 12), st.integers(-2**70, 2**70))


def is_real_number(x):
    """What pybind11 takes for a float argument (a bool is taken as 0.0 or 1.0, as float(True) is)."""
    return isinstance(x, (int, float, np.floating, np.integer))


# ---------------------------------------------------------------------------------------------------
# The objectives
# ---------------------------------------------------------------------------------------------------

RNG = np.random.default_rng(2024)
X_DATA = RNG.standard_normal((3, 4))  # n <= d: the network's certificate applies
Y_DATA = RNG.standard_normal(3)
OBJECTIVES = {
    "quadratic": gradflow.Quadratic.generated(3, cond=10.0, seed=0),
    "least-squares": gradflow.LeastSquares(X_DATA, Y_DATA),
    "karimi": gradflow.Karimi(3),
    "rosenbrock": gradflow.Rosenbrock(4),
    "mlp": gradflow.MLP(X_DATA, Y_DATA, widths=[2]),
}
NETWORK = OBJECTIVES["mlp"]
objective_names = st.sampled_from(sorted(OBJECTIVES))


@st.composite
def objective_and_vector(draw, elements=entries):
    name = draw(objective_names)
    f = OBJECTIVES[name]
    return name, f, draw(vectors(f.dimension, elements))


def check_evaluation(method, f, x, argument, expect_shape):
    """method(x) against method(float64 contiguous copy of x): the same bits, or refused naming argument."""
    ref = as_float64(x, 1)
    out, error = call(method, x)
    if ref is None or ref.shape[0] != f.dimension:
        assert error is not None, f"{argument} = {x!r} accepted: {out!r}"
        assert_refusal(error, argument)
        return
    assert error is None, f"{type(error).__name__}: {error}"
    expected, _ = call(method, ref)
    got = out[1] if isinstance(out, tuple) else out
    want = expected[1] if isinstance(expected, tuple) else expected
    assert np.shape(got) == expect_shape
    assert same_bits(got, want) and (not isinstance(out, tuple) or same_bits(out[0], expected[0]))
    if np.all(np.abs(ref) <= 3.0):
        assert np.all(np.isfinite(got)) and (not isinstance(out, tuple) or math.isfinite(out[0]))


@profile(360)
@given(objective_and_vector())
def test_loss_and_gradient_read_any_vector_as_its_float64_copy_or_refuse_it(case):
    _, f, x = case
    check_evaluation(f.loss, f, x, "theta", ())
    check_evaluation(f.loss_and_gradient, f, x, "theta", (f.dimension,))


@profile(180)
@given(objective_and_vector(), st.data())
def test_hessian_vector_reads_theta_and_v_as_their_float64_copies_or_refuses_them(case, data):
    _, f, v = case
    theta = np.linspace(-0.5, 0.5, f.dimension)
    check_evaluation(lambda u: f.hessian_vector(theta, u), f, v, "v", (f.dimension,))
    x = data.draw(vectors(f.dimension, moderate))
    check_evaluation(lambda u: f.hessian_vector(u, np.ones(f.dimension)), f, x, "theta", (f.dimension,))


@profile(120)
@given(vectors(NETWORK.dimension))
def test_predict_reads_theta_as_its_float64_copy_or_refuses_it(x):
    ref = as_float64(x, 1)
    out, error = call(NETWORK.predict, x)
    if ref is None or ref.shape[0] != NETWORK.dimension:
        assert_refusal(error, "theta")
        return
    assert error is None, error
    assert out.shape == (X_DATA.shape[0],) and same_bits(out, NETWORK.predict(ref))


# ---------------------------------------------------------------------------------------------------
# The runs: theta0
# ---------------------------------------------------------------------------------------------------

FLOW_BASE = dict(t_end=0.05, max_steps=200)
DESCENT_BASE = dict(max_iters=5, lr=0.01)


def run(kind, f, theta0, **kwargs):
    if kind == "flow":
        return gradflow.flow(f, theta0, **{**FLOW_BASE, **kwargs})
    return gradflow.descend(f, theta0, **{**DESCENT_BASE, **kwargs})


@profile(240)
@given(st.sampled_from(["flow", "descend"]), objective_and_vector())
def test_a_run_reads_theta0_as_its_float64_copy_and_refuses_what_is_not_a_finite_vector(kind, case):
    _, f, x = case
    ref = as_float64(x, 1)
    out, error = call(run, kind, f, x)
    if ref is None or ref.shape[0] != f.dimension or not np.all(np.isfinite(ref)):
        assert error is not None, f"theta0 = {x!r} accepted: {out.status}"
        assert_refusal(error, "theta0")
        return
    assert error is None, f"{type(error).__name__}: {error}"
    same = run(kind, f, ref)
    assert out.status == same.status and isinstance(out.status, str)
    assert out.theta.shape == (f.dimension,)
    assert same_bits(out.theta, same.theta) and same_bits(out.loss, same.loss) and same_bits(out.t, same.t)
    if np.all(np.abs(ref) <= 3.0):
        assert np.all(np.isfinite(out.theta)) and math.isfinite(out.loss_final)


@profile(120)
@given(objective_and_vector(moderate))
def test_certify_reads_theta0_as_its_float64_copy_or_refuses_it(case):
    name, f, x = case
    ref = as_float64(x, 1)
    out, error = call(gradflow.certify, f, x)
    if ref is None or ref.shape[0] != f.dimension or not np.all(np.isfinite(ref)):
        assert_refusal(error, "theta0")
        return
    assert error is None, f"{type(error).__name__}: {error}"
    assert isinstance(out, dict) and isinstance(out["applies"], bool) and isinstance(out["holds"], bool)
    assert out["applies"] == (name in ("least-squares", "mlp"))  # the squared losses, n <= d for the network
    same = gradflow.certify(f, ref)
    assert repr(out) == repr(same)  # the same numbers (NaN included)


# ---------------------------------------------------------------------------------------------------
# The runs: numeric options
# ---------------------------------------------------------------------------------------------------

FLOW_FLOATS = ["t_end", "rtol", "atol", "dt", "loss_tol", "grad_tol", "mu", "radius", "max_wall_seconds",
               "save_every"]
DESCENT_FLOATS = ["lr", "gamma", "armijo_b", "armijo_c", "loss_tol", "grad_tol", "mu", "beta", "ball_radius",
                  "divergence_factor", "max_wall_seconds"]
STATUSES = {"reached_end_time", "tolerance_reached", "max_steps", "time_limit", "stopped_by_observer",
            "step_size_too_small", "non_finite_value", "backend_error", "reached_max_iters", "diverged",
            "event_stop"}


def option_value(key):
    # save_every: t_end / save_every rows are recorded (up to 1e7 are allowed): small positive intervals
    # would make an example slow, not wrong; the hostile ones (1e-300, 5e-324) are in HOSTILE_SCALARS.
    if key == "save_every":
        return st.one_of(st.sampled_from(HOSTILE_SCALARS), st.floats(min_value=1e-3), st.floats(max_value=0.0))
    return scalars


def check_run_option(kind, key, value, extra):
    f = OBJECTIVES["quadratic"]
    out, error = call(run, kind, f, np.ones(3), **extra, **{key: value})
    if error is not None:
        assert_refusal(error, key)
        return
    # Accepted: None for an optional keyword ("not given"), else a real number (pybind11 also converts a
    # bool or a numpy scalar) that is finite and not negative.
    if value is None:
        assert key in ("dt", "mu", "radius", "gamma", "beta", "ball_radius"), f"{key} = None accepted"
    else:
        assert is_real_number(value), f"{key} = {value!r} accepted"
        assert math.isfinite(float(value)) and float(value) >= 0.0, f"{key} = {value!r} accepted"
    assert out.status in STATUSES, out.status
    assert out.theta.shape == (3,) and np.all(np.isfinite(out.theta))


@profile(450)
@given(st.sampled_from(FLOW_FLOATS).flatmap(lambda k: st.tuples(st.just(k), option_value(k))),
       st.sampled_from(["dopri5", "euler", "cvode-bdf"]))
def test_flow_float_options_refuse_nan_inf_negative_and_non_numbers_naming_the_keyword(key_value, solver):
    key, value = key_value
    check_run_option("flow", key, value, {"solver": solver})


@profile(360)
@given(st.sampled_from(DESCENT_FLOATS).flatmap(lambda k: st.tuples(st.just(k), option_value(k))),
       st.sampled_from(["fixed", "armijo", "polyak", "inverse-smoothness"]))
def test_descend_float_options_refuse_nan_inf_negative_and_non_numbers_naming_the_keyword(key_value, step):
    key, value = key_value
    extra = {"step": step}
    if step == "polyak" and key != "gamma":
        extra["gamma"] = 0.5
    check_run_option("descend", key, value, extra)


@profile(240)
@given(st.sampled_from([("flow", "max_steps"), ("descend", "max_iters"), ("descend", "save_every"),
                        ("descend", "seed")]), sizes)
def test_integer_options_refuse_what_is_not_an_integer_in_range_naming_the_keyword(kind_key, value):
    kind, key = kind_key
    f = OBJECTIVES["quadratic"]
    guard = {"loss_tol": 0.5} if key == "max_iters" else {}  # a huge budget ends at the tolerance
    out, error = call(run, kind, f, np.ones(3), **guard, **{key: value})
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    lowest, highest = (0, 2**64) if key == "seed" else (1, 2**63)
    if integer and lowest <= int(value) < highest:
        assert error is None, f"{key} = {value!r}: {error}"
        assert out.status in STATUSES and np.all(np.isfinite(out.theta))
    elif error is None:  # only a bool (pybind11 takes True as 1) may pass
        assert isinstance(value, bool) and int(value) >= lowest, f"{key} = {value!r} accepted"
    else:
        assert_refusal(error, key)


@profile(180)
@given(st.sampled_from(["flow", "descend"]), st.sampled_from(["record_states", "dense_output"]),
       st.sampled_from([True, False, 0, 1, np.bool_(True), "yes", "", 2.5, [], object()]))
def test_boolean_options_take_booleans_or_refuse_naming_the_keyword(kind, key, value):
    if kind == "descend" and key == "dense_output":
        key = "record_states"
    out, error = call(run, kind, OBJECTIVES["karimi"], np.ones(3), **{key: value})
    if error is not None:
        assert_refusal(error, key)
    else:
        assert out.status in STATUSES


@profile(180)
@given(vectors(4, st.one_of(st.floats(min_value=0.001, max_value=0.05), st.sampled_from(SPECIAL))))
def test_times_is_read_as_its_float64_copy_or_refused(times):
    f = OBJECTIVES["quadratic"]
    ref = as_float64(times, 1)
    out, error = call(run, "flow", f, np.ones(3), times=times)
    if times is None:  # not given
        assert error is None and out.status == "reached_end_time"
        return
    if ref is None:
        assert_refusal(error, "times")
        return
    ok = ref.size == 0 or (np.all(np.isfinite(ref)) and np.all(ref > 0) and np.all(ref <= FLOW_BASE["t_end"])
                           and np.all(np.diff(ref) > 0))
    if not ok:
        assert_refusal(error, "times")
        return
    assert error is None, error
    same = run("flow", f, np.ones(3), times=ref)
    assert same_bits(out.t, same.t) and same_bits(out.theta, same.theta)
    assert np.all(np.isin(ref, out.t))  # the requested times are rows


# ---------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------

# Printable text only: control bytes in names are the subject of a test of their own (below). Drawn from an
# explicit list (st.text and st.characters write hypothesis's unicode cache, .hypothesis/, into the test folder).
PRINTABLE = [chr(c) for c in range(32, 127)] + list("\u00e9\u00df\u0131\u4e2d\u202e\u200b\u00a0\U0001f600")
printable = st.lists(st.sampled_from(PRINTABLE), max_size=20).map("".join)
NAMES = {
    "solver": list(gradflow.SOLVERS),
    "krylov": ["gmres", "pcg"],
    "step": list(gradflow.STEP_RULES),
    "init": ["positive", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_normal",
             "orthogonal", "zeros"],
    "activation": ["tanh", "arctan", "softplus", "sigmoid", "softplus-centered", "relu", "silu", "gelu"],
}


def name_call(key, name):
    if key == "solver":
        return gradflow.flow(OBJECTIVES["karimi"], np.ones(3), solver=name, t_end=0.01, max_steps=50)
    if key == "krylov":
        return gradflow.flow(OBJECTIVES["karimi"], np.ones(3), solver="cvode-bdf-krylov", krylov=name, t_end=0.01)
    if key == "step":
        return gradflow.descend(OBJECTIVES["karimi"], np.ones(3), step=name, max_iters=2)
    if key == "init":
        return NETWORK.init(name, 0, 1.0)
    return gradflow.MLP(X_DATA, Y_DATA, widths=[2], activation=name)


@st.composite
def names_for(draw, key):
    known = NAMES[key]
    base = draw(st.sampled_from(known))
    return draw(st.sampled_from([
        base, base.upper(), " " + base, base + " ", base.replace("-", "_"), base[:-1], base + base, "",
        draw(printable), None, 3, [base], base.encode("ascii")]))


@profile(360)
@given(st.sampled_from(sorted(NAMES)).flatmap(lambda k: st.tuples(st.just(k), names_for(k))))
def test_names_are_exactly_the_documented_ones_or_refused_naming_the_keyword_and_listing_them(key_name):
    key, name = key_name
    out, error = call(name_call, key, name)
    if isinstance(name, bytes):  # pybind11 takes bytes as a str
        name = name.decode("ascii")
    if isinstance(name, str) and name in NAMES[key]:
        assert error is None, f"{key} = {name!r}: {error}"
        return
    assert error is not None, f"{key} = {name!r} accepted"
    assert_refusal(error, key)
    if isinstance(error, ValueError):
        assert "must be one of" in str(error) and NAMES[key][0] in str(error)


@profile(120)
@given(st.lists(st.one_of(st.sampled_from(["ntk", "sharpness", "sharpness2", "condition", "", "NTK", "x"]),
                          printable), max_size=3) | st.sampled_from(["ntk", None, 5, [None], ("ntk",)]))
def test_observe_takes_a_list_of_known_observables_or_is_refused_naming_it(observe):
    f = OBJECTIVES["least-squares"]
    out, error = call(gradflow.descend, f, np.zeros(f.dimension), max_iters=3, observe=observe)
    known = {"ntk", "sharpness", "sharpness2", "condition"}
    # Each known name once (a name listed twice is refused naming it, as on the command line).
    if (isinstance(observe, (list, tuple)) and all(isinstance(o, str) and o in known for o in observe)
            and len(set(observe)) == len(observe)):
        assert error is None, error
        assert out.status in STATUSES
    else:
        assert error is not None, f"observe = {observe!r} accepted"
        assert_refusal(error, "observe")


# ---------------------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------------------


def physical_memory():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def constructor(kind, p):
    if kind == "Karimi":
        return gradflow.Karimi(p)
    if kind == "Rosenbrock":
        return gradflow.Rosenbrock(p)
    if kind == "Function":
        return gradflow.Function(lambda t: (0.5 * float(t @ t), t.copy()), p)
    # Quadratic.generated allocates p x p: sizes within reach only here (the huge ones: a test below).
    return gradflow.Quadratic.generated(p, cond=1.0 if isinstance(p, (int, np.integer)) and p == 1 else 10.0)


@profile(300)
@given(st.sampled_from(["Karimi", "Rosenbrock", "Function", "Quadratic.generated"]), sizes)
def test_sizes_are_integers_in_range_or_refused_naming_them(kind, p):
    if kind == "Quadratic.generated" and isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p > 64:
        p = -p  # keep the allocation small: the huge sizes are the subject of their own test
    out, error = call(constructor, kind, p)
    integer = isinstance(p, (int, np.integer)) and not isinstance(p, bool) and -2**63 <= int(p) < 2**63
    valid = integer and int(p) >= 1 and (kind != "Rosenbrock" or int(p) % 2 == 0)
    # Karimi and Rosenbrock check the memory of a run's vectors of p (64 bytes per parameter) up front.
    needs = 64 * int(p) if valid else 0
    limit = 0.75 * physical_memory()
    if valid and kind in ("Karimi", "Rosenbrock") and abs(needs - limit) < 0.01 * limit:
        return  # at the limit itself either outcome is right (the limit is the library's reading of memory)
    too_large = valid and kind in ("Karimi", "Rosenbrock") and needs > limit
    if too_large:
        assert error is not None and "memory" in str(error), f"{kind}({p!r}) accepted"
        assert_refusal(error, "p")
    elif valid:
        assert error is None, f"{kind}({p!r}): {error}"
        assert out.dimension == int(p)
    elif error is None:
        assert isinstance(p, bool) and p, f"{kind}({p!r}) accepted"  # pybind11 takes True as 1
    else:
        assert_refusal(error, "p", "dimension")


@profile(240)
@given(matrices(3, 3, square_forms=True), st.data())
def test_quadratic_reads_A_as_its_float64_copy_or_refuses_it(a, data):
    ref = as_float64(a, 2)
    out, error = call(gradflow.Quadratic, a)
    if ref is None or ref.size == 0 or ref.shape[0] != ref.shape[1]:
        assert_refusal(error, "A")
        return
    scale = max(1.0, float(np.abs(ref).max()))
    symmetric = bool(np.all(ref == ref.T))
    if symmetric and np.linalg.eigvalsh(ref).min() > 1e-9 * scale:
        assert error is None, f"a positive definite A was refused: {error}"
    if error is not None:
        assert_refusal(error, "A")
        return
    assert np.allclose(ref, ref.T, rtol=0, atol=1e-12 * scale), f"a non-symmetric A was accepted: {ref!r}"
    assert np.linalg.eigvalsh((ref + ref.T) / 2).min() >= -1e-8 * scale, f"an indefinite A was accepted: {ref!r}"
    theta = np.array(data.draw(st.lists(moderate, min_size=ref.shape[0], max_size=ref.shape[0])))
    same = gradflow.Quadratic(ref)
    assert same_bits(out.A, same.A)
    assert same_bits(out.loss(theta), same.loss(theta))
    assert same_bits(out.loss_and_gradient(theta)[1], same.loss_and_gradient(theta)[1])


@profile(150)
@given(vectors(3))
def test_quadratic_reads_its_minimizer_as_its_float64_copy_or_refuses_it(minimizer):
    ref = as_float64(minimizer, 1)
    out, error = call(gradflow.Quadratic, np.diag([1.0, 2.0, 3.0]), minimizer=minimizer)
    if minimizer is None:
        assert error is None and same_bits(out.known["minimizer"], np.zeros(3))
        return
    if ref is None or ref.shape[0] != 3 or not np.all(np.isfinite(ref)):
        assert_refusal(error, "minimizer")
        return
    assert error is None, error
    assert same_bits(out.known["minimizer"], ref)


@profile(180)
@given(matrices(3, 4), vectors(3, moderate), st.sampled_from(["LeastSquares", "MLP"]))
def test_least_squares_and_network_read_X_and_y_as_float64_copies_or_refuse_them(x, y, kind):
    xr, yr = as_float64(x, 2), as_float64(y, 1)
    make = (lambda a, b: gradflow.LeastSquares(a, b)) if kind == "LeastSquares" else \
        (lambda a, b: gradflow.MLP(a, b, widths=[2]))
    out, error = call(make, x, y)
    if xr is None or yr is None or yr.shape[0] != xr.shape[0]:
        assert error is not None, f"{kind}(X={x!r}, y={y!r}) accepted"
        assert_refusal(error, "X", "y")
        return
    if xr.size == 0:  # no sample or no feature: refused (the network's messages: a test below)
        assert error is not None, f"{kind}(X={x!r}, y={y!r}) accepted"
        assert isinstance(error, ValueError), f"{type(error).__name__}: {error}"
        if kind == "LeastSquares":
            assert_refusal(error, "X")
        return
    if not (np.all(np.isfinite(xr)) and np.all(np.isfinite(yr))):
        assert_refusal(error, "X", "y")
        return
    assert error is None, f"{type(error).__name__}: {error}"
    same = make(xr, yr)
    theta = np.linspace(-1.0, 1.0, same.dimension)
    assert out.dimension == same.dimension
    assert same_bits(out.loss_and_gradient(theta)[1], same.loss_and_gradient(theta)[1])


@profile(180)
@given(st.one_of(st.lists(st.integers(-3, 6), max_size=3), st.sampled_from([[], [2**63], [-2**63], [2.5], ["2"], 2,
                                                                            None, [None], np.array([2, 3])])),
       st.sampled_from([0, 1, 2, -1, 2**31, None, 1.5]))
def test_network_widths_and_threads_are_checked_naming_them(widths, threads):
    out, error = call(gradflow.MLP, X_DATA, Y_DATA, widths=widths, threads=threads)
    w = list(widths) if isinstance(widths, (list, np.ndarray)) else None
    valid_w = w is not None and len(w) > 0 and all(isinstance(v, (int, np.integer)) and 1 <= v <= 10**5 for v in w)
    valid_t = isinstance(threads, int) and 0 <= threads < 2**31
    if valid_w and valid_t:
        assert error is None, error
        assert out.dimension > 0
        return
    assert error is not None, f"MLP(widths={widths!r}, threads={threads!r}) accepted"
    assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {error}"
    for leak in LEAKS:
        assert leak not in str(error)


@profile(180)
@given(st.sampled_from(NAMES["init"] + ["", "POSITIVE", None]), sizes, scalars)
def test_network_init_checks_name_seed_and_output_scale(name, seed, scale):
    out, error = call(NETWORK.init, name, seed, scale)
    seed_ok = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= int(seed) < 2**64
    scale_ok = is_real_number(scale) and math.isfinite(float(scale)) and float(scale) > 0
    if name in NAMES["init"] and seed_ok and scale_ok:
        assert error is None, error
        assert out.shape == (NETWORK.dimension,) and np.all(np.isfinite(out))
        return
    if error is None:  # pybind11 takes a bool seed as 0/1 and a bool scale True as 1.0
        assert name in NAMES["init"] and (isinstance(seed, bool) or isinstance(scale, bool)), \
            f"init({name!r}, {seed!r}, {scale!r}) accepted"
        return
    assert_refusal(error, "init", "seed", "output_scale")


# ---------------------------------------------------------------------------------------------------
# Python callables that misbehave
# ---------------------------------------------------------------------------------------------------


class Refused(Exception):
    pass


def good(theta):
    return 0.5 * float(theta @ theta), theta.copy()


BAD_RETURNS = {
    "None": lambda t: None,
    "float": lambda t: 1.0,
    "three": lambda t: (1.0, t.copy(), 0),
    "one": lambda t: (1.0,),
    "short grad": lambda t: (1.0, t[:-1].copy()),
    "2-D grad": lambda t: (1.0, t[None, :].copy()),
    "None grad": lambda t: (1.0, None),
    "str grad": lambda t: (1.0, "abc"),
    "dict": lambda t: {"loss": 1.0},
    "nan loss": lambda t: (NAN, t.copy()),
    "inf grad": lambda t: (1.0, np.full_like(t, INF)),
    "list grad": lambda t: (0.5 * float(t @ t), list(t)),
    "int grad": lambda t: (0.5 * float(t @ t), np.ones(t.size, dtype=np.int64)),
    "numpy loss": lambda t: (np.float32(0.5 * float(t @ t)), t.copy()),
    "raises": lambda t: (_ for _ in ()).throw(Refused("no")),
    "raises late": None,  # filled below: raises on the 5th call
}


def raises_late():
    calls = [0]

    def f(theta):
        calls[0] += 1
        if calls[0] >= 5:
            raise Refused("late")
        return good(theta)

    return f


@profile(180)
@given(st.sampled_from(sorted(BAD_RETURNS)), st.sampled_from(["flow", "descend"]),
       st.sampled_from(["dopri5", "rk4", "cvode-bdf"]))
def test_a_loss_callable_returning_garbage_ends_the_run_with_a_clear_error(which, kind, solver):
    f = raises_late() if which == "raises late" else BAD_RETURNS[which]
    extra = {"solver": solver} if kind == "flow" else {}
    out, error = call(run, kind, f, np.ones(3), **extra)
    if error is None:
        assert out.status in STATUSES and out.theta.shape == (3,) and np.all(np.isfinite(out.theta))
        if which in ("nan loss", "inf grad"):
            assert out.status == "non_finite_value"
        return
    if isinstance(error, Refused):  # the callable's own exception comes back, the result attached
        assert which.startswith("raises")
        assert error.gradflow_result.status == "callback_error"
        return
    assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {error}"
    assert "callable" in str(error) or "loss" in str(error), str(error)
    assert which not in ("list grad", "int grad", "numpy loss"), f"{which}: {error}"


@profile(120)
@given(st.sampled_from([5, "f", None, [good]]), st.sampled_from([lambda t, v: v, lambda t, v: "x",
                                                                 lambda t, v: v[:1], lambda t, v: 1 / 0]))
def test_function_and_event_constructors_refuse_what_is_not_callable(not_callable, hvp):
    _, error = call(gradflow.Function, not_callable, 3)
    assert_refusal(error, "f", "callable")
    _, error = call(gradflow.Function, good, 3, hvp=not_callable)
    if not_callable is not None:
        assert_refusal(error, "hvp")
    _, error = call(gradflow.Event, "e", not_callable)
    assert_refusal(error, "g", "callable")
    # A callable hvp that misbehaves: an error naming it, or the callable's own exception, never a crash.
    out, error = call(gradflow.flow, gradflow.Function(good, 3, hvp=hvp), np.ones(3), solver="cvode-bdf-krylov",
                      t_end=0.1)
    if error is not None:
        assert isinstance(error, (ZeroDivisionError, ValueError)), f"{type(error).__name__}: {error}"
        if isinstance(error, ValueError):
            assert "hvp" in str(error)
    else:
        assert out.status in STATUSES


# ---------------------------------------------------------------------------------------------------
# The experiments
# ---------------------------------------------------------------------------------------------------

PROBABILITY_KEYS = {"draws": sizes, "steps": sizes, "threads": sizes, "seed": sizes, "alpha": scalars,
                    "eps": scalars, "lr": scalars, "output_scale": scalars,
                    "step": st.sampled_from(list(gradflow.STEP_RULES) + ["", "Armijo", None]),
                    "init": st.sampled_from(NAMES["init"] + ["", "he", None])}


@profile(180)
@given(st.sampled_from(sorted(PROBABILITY_KEYS)).flatmap(lambda k: st.tuples(st.just(k), PROBABILITY_KEYS[k])))
def test_probability_checks_every_keyword_naming_it(key_value):
    key, value = key_value
    kwargs = dict(draws=2, steps=3, threads=1)
    if key in ("draws", "steps") and isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
            and value > 3:
        value = -value  # keep the work small: large counts are refused or slow, not the subject here
    kwargs[key] = value
    out, error = call(gradflow.probability, NETWORK, **kwargs)
    if error is not None:
        assert_refusal(error, key)
        return
    assert isinstance(out, dict) and 0 <= out["certified"] <= out["draws"] and 0 <= out["reached"] <= out["draws"]
    assert out["loss0"].shape == (out["draws"],)
    if key in ("alpha", "eps"):
        assert is_real_number(value) and 0 < float(value) < 1, f"{key} = {value!r} accepted"
    if key in ("lr", "output_scale"):
        assert is_real_number(value) and math.isfinite(float(value)) and float(value) > 0, \
            f"{key} = {value!r} accepted"


COMPARE_KEYS = {
    "inits": st.sampled_from([[], ["positive", "positive"], ["x"], "positive", None, ["positive", "zeros"]]),
    "widths": st.sampled_from([[], [0], [-1], [2, 2], [10**6], [2.5], 2, None, [3]]),
    "seeds": sizes, "depth": sizes,
    "activation": st.sampled_from(NAMES["activation"] + ["", "x", None]),
    "protocol": st.sampled_from(["armijo", "tuned-fixed", "flow", "", "x", None]),
    "solver": st.sampled_from(["dopri5", "x", ""]),
    "lr_grid": st.sampled_from([[], [NAN], [0.0], [-1.0], [1.0, 1.0], [INF], "1", [1.0]]),
    "eps": scalars, "loss_tol": scalars, "max_steps": sizes, "lr": scalars, "output_scale": scalars,
    "scale_margin": scalars,
    "preprocess": st.sampled_from(["none", "standardize", "scale", "whiten", "", "x", None]),
    "observe": st.sampled_from([["x"], ["ntk"], "ntk", [""], None]),
    "threads": sizes,
}


@profile(240)
@given(st.sampled_from(sorted(COMPARE_KEYS)).flatmap(lambda k: st.tuples(st.just(k), COMPARE_KEYS[k])))
def test_compare_inits_checks_every_keyword_naming_it(key_value):
    key, value = key_value
    kwargs = dict(inits=["positive", "xavier_normal"], widths=[2], seeds=1, max_steps=10, threads=1,
                  output_scale=1.0)
    if key in ("seeds", "max_steps", "depth", "threads") and isinstance(value, (int, np.integer)) \
            and not isinstance(value, bool) and value > 2:
        value = -value  # large counts: slow, not the subject here
    kwargs[key] = value
    if key in ("lr_grid",):
        kwargs["protocol"] = "tuned-fixed"
    if key == "solver":
        kwargs["protocol"] = "flow"
    if key == "loss_tol":
        kwargs["eps"] = None
    x = np.abs(RNG.standard_normal((3, 5))) + np.eye(3, 5)
    out, error = call(gradflow.compare_inits, x, np.ones(3), **kwargs)
    if error is not None:
        assert_refusal(error, key)
        return
    assert isinstance(out, dict) and isinstance(out["verdict"], str)
    if key in ("eps", "loss_tol", "lr", "output_scale", "scale_margin") and value is not None:
        assert is_real_number(value) and math.isfinite(float(value)) and float(value) > 0, \
            f"{key} = {value!r} accepted"


# ---------------------------------------------------------------------------------------------------
# Bugs found by these properties, each a minimal call: the fixed ones stay as regression tests, the open ones
# are xfail strict (remove the mark when fixed)
# ---------------------------------------------------------------------------------------------------


def test_complex_input_with_an_imaginary_part_is_refused():
    q = OBJECTIVES["quadratic"]
    _, error = call(q.loss, np.array([1 + 2j, 0.0, 0.0]))
    assert_refusal(error, "theta")


@pytest.mark.parametrize("name", ["dopri5\x00", "\x1b[31mred"])
def test_messages_about_names_escape_control_bytes(name):
    _, error = call(name_call, "solver", name)
    assert isinstance(error, ValueError)
    message = str(error)
    assert "must be one of" in message, repr(message)
    assert not any(ord(c) < 32 or ord(c) == 127 for c in message), repr(message)


def test_a_non_number_loss_is_refused_without_binding_internals():
    _, error = call(gradflow.flow, lambda t: ("a", t), np.ones(3), t_end=0.1)
    assert_refusal(error, "loss")


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_min_value_must_be_finite(value):
    _, error = call(gradflow.flow, good, np.ones(3), t_end=0.1, min_value=value)
    assert_refusal(error, "min_value")


def test_a_non_callable_hvp_given_to_a_run_is_refused():
    _, error = call(gradflow.flow, good, np.ones(3), t_end=0.1, hvp=5)
    assert_refusal(error, "hvp")


def test_a_generated_quadratic_too_large_for_memory_is_a_value_error():
    # In a child with a 4 GiB address-space limit, so that no kernel's overcommit lets the 8 TB through.
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); import gradflow\n"
            "try:\n    gradflow.Quadratic.generated(10**6)\nexcept Exception as e:\n"
            "    print(type(e).__name__ + ': ' + str(e))\nelse:\n    print('accepted')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = out.stdout.strip()
    assert out.returncode == 0, out.stderr
    assert line.startswith("ValueError: ") and "p" in line and "std::" not in line, line


@pytest.mark.parametrize("make", ["gradflow.Quadratic.generated(10**6)",
                                  "gradflow.MLP(np.ones((3, 4)), np.ones(3), widths=[10**9])",
                                  "gradflow.MLP(np.ones((3, 4)), np.ones(3), widths=[10**5] * 3)"])
def test_an_objective_too_large_for_memory_is_a_value_error_naming_its_size_before_allocating(make):
    # In a child with a 1 GiB address-space limit: the refusal comes from the estimate, before any allocation
    # (a MemoryError or bad_alloc would mean that something was allocated first).
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
            "import numpy as np, gradflow\n"
            "try:\n    " + make + "\nexcept Exception as e:\n"
            "    print(type(e).__name__ + ': ' + str(e))\nelse:\n    print('accepted')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = out.stdout.strip()
    assert out.returncode == 0, out.stderr
    assert line.startswith("ValueError: "), line
    assert ("p = " if "Quadratic" in make else "widths = [") in line and "of memory (estimate)" in line, line
    assert "std::" not in line and "--" not in line, line


def test_an_accepted_tolerance_never_lets_the_flow_increase_the_loss():
    q = OBJECTIVES["quadratic"]
    out, error = call(gradflow.flow, q, np.ones(3), atol=1e300)
    assert error is not None or out.loss_final <= out.loss0


def test_a_certificate_never_holds_with_an_infinite_loss():
    ls = gradflow.LeastSquares(np.eye(2), np.ones(2))
    out, error = call(gradflow.certify, ls, np.array([1e300, 1e300]))
    assert error is not None or not out["holds"]


def test_a_name_in_bytes_that_are_not_utf8_is_refused_naming_the_keyword():
    _, error = call(name_call, "solver", b"dopri5\xff")
    assert_refusal(error, "solver")


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_the_network_refuses_empty_data_naming_X(shape):
    _, error = call(gradflow.MLP, np.zeros(shape), np.zeros(shape[0]))
    assert_refusal(error, "X")
    assert "Mlp()" not in str(error)


def test_a_generated_quadratic_of_dimension_one_is_refused_naming_p_or_cond():
    _, error = call(gradflow.Quadratic.generated, 1)
    assert_refusal(error, "p =", "cond =")
    assert "::" not in str(error)

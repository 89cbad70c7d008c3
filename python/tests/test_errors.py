"""Bad arguments: ValueError with the library's words (field, value, constraint)."""
import numpy as np
import pytest

import gradflow


@pytest.fixture
def q():
    return gradflow.Quadratic.generated(3, cond=10.0, seed=0)


def test_theta0_of_the_wrong_shape_or_with_nan(q):
    with pytest.raises(ValueError, match="1-D"):
        gradflow.flow(q, np.ones((3, 1)))
    with pytest.raises(ValueError, match="theta0 has 4 entries, the problem has dimension 3"):
        gradflow.flow(q, np.ones(4))
    with pytest.raises(ValueError, match="non-finite"):
        gradflow.flow(q, np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="non-finite"):
        gradflow.descend(q, np.array([1.0, np.inf, 0.0]))


def test_unknown_names_list_the_known_ones(q):
    with pytest.raises(ValueError, match="solver = 'rk45': must be one of dopri5, .*cvode-bdf"):
        gradflow.flow(q, np.ones(3), solver="rk45")
    with pytest.raises(ValueError, match="step = 'adam'"):
        gradflow.descend(q, np.ones(3), step="adam")
    with pytest.raises(ValueError, match="krylov = 'cg'"):
        gradflow.flow(q, np.ones(3), solver="cvode-bdf-krylov", krylov="cg")
    x = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="activation = 'swish'"):
        gradflow.MLP(x, np.ones(4), activation="swish")
    with pytest.raises(ValueError, match="init = 'he'"):
        gradflow.MLP(x, np.ones(4)).init("he")


def test_invalid_options_carry_the_library_message(q):
    with pytest.raises(ValueError, match=r"^rtol = -1: "):
        gradflow.flow(q, np.ones(3), rtol=-1.0)
    with pytest.raises(ValueError, match=r"^t_end = "):
        gradflow.flow(q, np.ones(3), t_end=0.0)
    with pytest.raises(ValueError, match=r"^times"):
        gradflow.flow(q, np.ones(3), times=[2.0, 1.0])
    with pytest.raises(ValueError, match=r"^lr = "):
        gradflow.descend(q, np.ones(3), lr=-0.1)
    with pytest.raises(ValueError, match=r"^max_steps = "):
        gradflow.flow(q, np.ones(3), max_steps=0)


def test_bad_problem_data():
    with pytest.raises(ValueError, match="symmetric"):
        gradflow.Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        gradflow.Quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match="rows of X"):
        gradflow.LeastSquares(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        gradflow.LeastSquares(np.array([[1.0, np.nan]]), np.ones(1))
    with pytest.raises(ValueError, match="even"):
        gradflow.Rosenbrock(3)
    with pytest.raises(ValueError):
        gradflow.Karimi(0)
    with pytest.raises(ValueError, match="callable"):
        gradflow.flow(42, np.ones(2))
    with pytest.raises(ValueError, match="hvp and min_value"):
        gradflow.flow(gradflow.Karimi(2), np.ones(2), min_value=0.0)


def test_other_dtypes_and_layouts_are_converted_once():
    q = gradflow.Quadratic(np.asfortranarray(np.diag([1.0, 2.0, 3.0]).astype(np.float32)))
    assert np.array_equal(q.A, np.diag([1.0, 2.0, 3.0]))
    strided = np.arange(6, dtype=np.int64)[::2]  # non-contiguous integers
    assert q.loss(strided) == q.loss(np.array([0.0, 2.0, 4.0])) == 0.5 * (4.0 * 2.0 + 16.0 * 3.0)
    assert np.array_equal(q.loss_and_gradient([0, 2, 4])[1], [0.0, 4.0, 12.0])
    r = gradflow.flow(q, strided, t_end=1.0, rtol=1e-10, atol=1e-13)
    assert np.allclose(r.theta, np.array([0.0, 2.0, 4.0]) * np.exp(-np.array([1.0, 2.0, 3.0])), atol=1e-8)

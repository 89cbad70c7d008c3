"""gradflow.MLP against PyTorch autograd on the same weights, and descent against closed forms."""
import numpy as np
import pytest

import gradflow

try:
    import torch
except ImportError:  # python3-torch is optional
    torch = None


def torch_loss(theta, x, y, widths, activation, bias):
    """The network of gradflow.MLP written with torch from the documented parameter layout."""
    layer_sizes = [x.shape[1]] + list(widths) + [1]
    offset = 0
    h = x
    for l in range(len(layer_sizes) - 1):
        cols, rows = layer_sizes[l], layer_sizes[l + 1]
        w = theta[offset:offset + rows * cols].reshape(rows, cols)  # row-major W_l
        offset += rows * cols
        z = h @ w.T
        if bias:
            z = z + theta[offset:offset + rows]
            offset += rows
        h = activation(z) if l < len(layer_sizes) - 2 else z
    assert offset == theta.shape[0]
    return 0.5 * torch.sum((h[:, 0] - y) ** 2)


@pytest.mark.skipif(torch is None, reason="python3-torch is not installed: the autograd comparison is skipped")
@pytest.mark.parametrize("widths,activation,bias", [([8], "tanh", False), ([6, 5], "sigmoid", True),
                                                    ([7], "softplus", False)])
def test_network_gradient_and_hvp_match_torch_autograd(rng, widths, activation, bias):
    x = rng.standard_normal((10, 4))
    y = rng.standard_normal(10)
    net = gradflow.MLP(x, y, widths=widths, activation=activation, bias=bias)
    theta = net.init("xavier_normal", seed=7)
    if bias:
        theta = theta + 0.1 * rng.standard_normal(theta.shape)  # biases start at 0: move them
    activations = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus}
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    xt, yt = torch.tensor(x), torch.tensor(y)
    loss_t = torch_loss(t, xt, yt, widths, activations[activation], bias)
    (grad_t,) = torch.autograd.grad(loss_t, t, create_graph=True)
    loss, grad = net.loss_and_gradient(theta)
    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    assert np.linalg.norm(grad - grad_t.detach().numpy()) <= 1e-12 * np.linalg.norm(grad)
    v = rng.standard_normal(theta.shape)
    (hv_t,) = torch.autograd.grad(grad_t, t, grad_outputs=torch.tensor(v))
    hv = net.hessian_vector(theta, v)
    assert np.linalg.norm(hv - hv_t.numpy()) <= 1e-11 * np.linalg.norm(hv)


def test_network_flow_runs_and_init_is_seeded(rng):
    x = rng.standard_normal((6, 10)) / np.sqrt(10)
    y = rng.standard_normal(6)
    net = gradflow.MLP(x, y, widths=[16])
    assert net.dimension == 10 * 16 + 16
    a, b = net.init("positive", seed=3, output_scale=2.0), net.init("positive", seed=3, output_scale=2.0)
    assert np.array_equal(a, b)
    assert np.all(a[:160] == 0.0) and np.all(a[160:] > 0.0)  # W_1 = 0, positive output layer
    r = gradflow.flow(net, a, solver="cvode-bdf-krylov", t_end=50.0)
    assert r.success and r.loss[-1] < r.loss[0]


def test_fixed_step_descent_on_a_quadratic_is_the_matrix_power():
    q = gradflow.Quadratic.generated(4, cond=20.0, seed=5)
    theta0 = np.arange(1.0, 5.0)
    lr = 0.5
    r = gradflow.descend(q, theta0, lr=lr, max_iters=30, record_states=True)
    assert r.status == "reached_max_iters" and r.iterations == 30
    step = np.eye(4) - lr * q.A
    for k, state in zip(r.iter.astype(int), r.states):
        assert np.linalg.norm(state - np.linalg.matrix_power(step, k) @ theta0) <= 1e-12 * np.linalg.norm(theta0)
    # The rule's guarantee with the exact mu and beta: q = 1 - mu eta (2 - beta eta), and it holds.
    assert r.guarantee["q"] == pytest.approx(1 - lr * q.known["mu"] * (2 - lr * q.known["beta"]), rel=1e-14)
    assert r.bound_holds is True
    d = r.to_dict()
    assert np.array_equal(d["rows"]["loss"], r.loss) and d["iterations"] == 30

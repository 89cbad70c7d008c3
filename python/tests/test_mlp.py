"""gradflow.MLP against a numpy network written from the math and against PyTorch autograd on the same weights,
and descent against closed forms."""
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


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# sigma and sigma' of each activation (docs/theory.md §5.1), written here from their formulas.
ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "arctan": (np.arctan, lambda z: 1.0 / (1.0 + z * z)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
    "softplus-centered": (lambda z: np.logaddexp(0.0, z) - np.log(2.0), _sigmoid),
}


def numpy_layers(theta, x, widths, bias):
    """The weights of the documented layout: layer by layer from the input, W_l (outputs x inputs) row-major,
    then b_l when biases are on."""
    sizes = [x.shape[1]] + list(widths) + [1]
    layers, offset = [], 0
    for cols, rows in zip(sizes[:-1], sizes[1:]):
        w = theta[offset:offset + rows * cols].reshape(rows, cols)
        offset += rows * cols
        b = np.zeros(rows)
        if bias:
            b = theta[offset:offset + rows]
            offset += rows
        layers.append((w, b))
    assert offset == theta.shape[0], "the parameter count of the layout"
    return layers


def numpy_network(theta, x, y, widths, activation, bias):
    """f(x_i) = W_L s(... s(W_1 x_i)) and L = 1/2 sum_i (f(x_i) - y_i)^2 (a sum, not a mean), with the
    gradient by back-propagation: all in numpy, from the formulas, without gradflow."""
    s, ds = ACTIVATIONS[activation]
    layers = numpy_layers(theta, x, widths, bias)
    h, cache = x, []
    for l, (w, b) in enumerate(layers):
        z = h @ w.T + b
        cache.append((h, z))
        h = s(z) if l < len(layers) - 1 else z
    f = h[:, 0]
    r = f - y
    loss = 0.5 * np.sum(r ** 2)
    grads = []
    delta = r[:, None]  # dL/dz of the output layer, one row per sample
    for l in range(len(layers) - 1, -1, -1):
        h_in, _ = cache[l]
        w, _ = layers[l]
        grads.append((delta.T @ h_in, delta.sum(axis=0)))
        if l > 0:
            delta = (delta @ w) * ds(cache[l - 1][1])
    grad = []
    for gw, gb in reversed(grads):
        grad.append(gw.ravel())
        if bias:
            grad.append(gb)
    return f, loss, np.concatenate(grad)


CASES = [([8], "tanh", False), ([6, 5], "sigmoid", True), ([7], "softplus", False), ([5, 4, 3], "arctan", True),
         ([6], "softplus-centered", False)]


@pytest.mark.parametrize("widths,activation,bias", CASES)
def test_network_loss_gradient_and_hvp_match_a_numpy_network(rng, widths, activation, bias):
    x = rng.standard_normal((10, 4))
    y = rng.standard_normal(10)
    net = gradflow.MLP(x, y, widths=widths, activation=activation, bias=bias)
    theta = net.init("xavier_normal", seed=7) + 0.1 * rng.standard_normal(net.dimension)  # biases start at 0
    f, loss, grad = numpy_network(theta, x, y, widths, activation, bias)
    assert net.dimension == theta.shape[0]
    # The oracle checks itself: its back-propagated gradient is the central difference of its loss.
    h = 1e-6
    fd = np.array([(numpy_network(theta + h * e, x, y, widths, activation, bias)[1]
                    - numpy_network(theta - h * e, x, y, widths, activation, bias)[1]) / (2 * h)
                   for e in np.eye(theta.shape[0])])
    assert np.linalg.norm(fd - grad) <= 1e-7 * np.linalg.norm(grad)
    # gradflow's outputs, loss and gradient at the same parameters.
    assert np.linalg.norm(net.predict(theta) - f) <= 1e-13 * np.linalg.norm(f)
    assert net.loss(theta) == pytest.approx(loss, rel=1e-13)
    ours_loss, ours_grad = net.loss_and_gradient(theta)
    assert ours_loss == pytest.approx(loss, rel=1e-13)
    assert np.linalg.norm(ours_grad - grad) <= 1e-12 * np.linalg.norm(grad)
    # Its Hessian-vector product is the central difference of the numpy gradient along v.
    v = rng.standard_normal(theta.shape)
    h = 1e-5
    hv = (numpy_network(theta + h * v, x, y, widths, activation, bias)[2]
          - numpy_network(theta - h * v, x, y, widths, activation, bias)[2]) / (2 * h)
    assert np.linalg.norm(net.hessian_vector(theta, v) - hv) <= 1e-7 * np.linalg.norm(hv)


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
    # At W_1 = 0 a tanh network outputs 0 on every sample: L0 = 1/2 ||y||^2 (docs/theory.md §5.2).
    assert r.loss0 == r.loss[0] == pytest.approx(0.5 * np.sum(y ** 2), rel=1e-14)
    # The reported end of the flow is the numpy network's loss and gradient at the returned parameters.
    _, loss, grad = numpy_network(r.theta, x, y, [16], "tanh", False)
    assert r.loss_final == r.loss[-1] == pytest.approx(loss, rel=1e-11)
    assert r.loss_final < 0.5 * r.loss0
    assert r.grad_norm[-1] == pytest.approx(np.linalg.norm(grad), rel=1e-10)
    assert r.dist_from_init[-1] == pytest.approx(np.linalg.norm(r.theta - a), rel=1e-12)


def test_network_descent_is_numpy_gradient_descent(rng):
    # Fixed-step descent on the network: each recorded iterate is theta_{k+1} = theta_k - lr grad L(theta_k)
    # with the numpy gradient, and each recorded loss is the numpy loss there.
    x = rng.standard_normal((6, 5)) / np.sqrt(5)
    y = rng.standard_normal(6)
    net = gradflow.MLP(x, y, widths=[7], activation="sigmoid", bias=True)
    theta = net.init("xavier_normal", seed=2) + 0.1 * rng.standard_normal(net.dimension)
    lr = 0.2
    r = gradflow.descend(net, theta, lr=lr, max_iters=12, record_states=True)
    assert r.status == "reached_max_iters" and r.iterations == 12
    expected = {}
    for k in range(13):
        _, loss, grad = numpy_network(theta, x, y, [7], "sigmoid", True)
        expected[k] = (theta, loss)
        theta = theta - lr * grad
    assert len(r.iter) == 13
    for k, state, loss in zip(r.iter.astype(int), r.states, r.loss):
        assert np.linalg.norm(state - expected[k][0]) <= 1e-12 * np.linalg.norm(expected[k][0])
        assert loss == pytest.approx(expected[k][1], rel=1e-12)
    assert r.loss[-1] < r.loss[0]


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


def armijo_oracle(a, theta0, eta_bar, b, c, steps):
    """Armijo backtracking on L = 1/2 theta^T A theta, written from docs/theory.md §2.6: from eta_bar, shrink by b
    until L(theta - eta g) <= L(theta) - c eta ||g||^2. Returns the accepted steps."""
    loss = lambda t: 0.5 * t @ a @ t
    theta, etas = theta0.copy(), []
    for _ in range(steps):
        g = a @ theta
        eta = eta_bar
        while loss(theta - eta * g) > loss(theta) - c * eta * (g @ g):
            eta *= b
        etas.append(eta)
        theta = theta - eta * g
    return np.array(etas), theta


def test_armijo_descent_takes_the_steps_of_an_independent_backtracking_with_its_b_and_c():
    q = gradflow.Quadratic.generated(5, cond=50.0, seed=3)
    theta0 = np.linspace(1.0, 2.0, 5)
    for b, c in [(0.3, 0.1), (0.7, 0.45)]:
        r = gradflow.descend(q, theta0, step="armijo", lr=4.0, armijo_b=b, armijo_c=c, max_iters=15,
                             record_states=True)
        etas, theta = armijo_oracle(q.A, theta0, 4.0, b, c, 15)
        assert r.iterations == 15
        np.testing.assert_allclose(r.step_size[1:], etas, rtol=1e-12)
        np.testing.assert_allclose(r.states[-1], theta, rtol=1e-10, atol=1e-14)

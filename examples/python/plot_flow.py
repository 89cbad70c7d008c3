"""The loss of a gradient flow against its PL rate bound, drawn with matplotlib (python3-matplotlib).

    PYTHONPATH=build/release/python python3 examples/python/plot_flow.py [out.png]

A two-layer network at the positive initialization, certified at theta0 (gradflow.certify), integrated
by CVODE's BDF with Krylov iterations; the plot shows L(t), the certified bound L0 exp(-2 mu t) and the
distance travelled against the certified travel. Writes out.png (default: flow.png) and nothing else.
"""
import sys

import numpy as np

import gradflow

try:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_flow.py needs matplotlib: apt-get install python3-matplotlib")

out = sys.argv[1] if len(sys.argv) > 1 else "flow.png"
rng = np.random.default_rng(0)
n, d = 16, 32  # fewer samples than features: linearly independent inputs, as the theory needs
x = rng.standard_normal((n, d)) / np.sqrt(d)
y = rng.standard_normal(n)
net = gradflow.MLP(x, y, widths=[64])
scale = gradflow.find_scale(net, seed=0)["scale"]
theta0 = net.init("positive", seed=0, output_scale=2.0 * scale)
certificate = gradflow.certify(net, theta0)
if not certificate["holds"]:
    sys.exit("the certificate does not hold: " + certificate["verdict"])
r = gradflow.flow(net, theta0, solver="cvode-bdf-krylov", t_end=5.0 / certificate["rate"],
                  save_every=0.05 / certificate["rate"], mu=certificate["mu"], radius=certificate["travel"])
print(r.report())

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.semilogy(r.t, r.loss, label="L(t)")
left.semilogy(r.t, r.bound, "--", label="certified bound L0 exp(-2 mu t)")
left.set_xlabel("flow time t")
left.set_ylabel("loss")
left.legend()
right.plot(r.t, r.dist_from_init, label="||theta(t) - theta0||")
right.axhline(certificate["travel"], color="k", ls="--", label="certified travel")
right.set_xlabel("flow time t")
right.legend()
fig.suptitle(f"positive initialization, s = 2 s* = {2 * scale:.3g}: mu = {certificate['mu']:.3g}")
fig.tight_layout()
fig.savefig(out, dpi=120)
print("wrote", out)

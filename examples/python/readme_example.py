import numpy as np, gradflow

def loss(theta):  # Karimi's nonconvex PL function: L = sum theta^2 + 3 sin^2 theta, mu = 1/32, min 0
    return float(np.sum(theta**2 + 3 * np.sin(theta) ** 2)), 2 * theta + 3 * np.sin(2 * theta)

small = gradflow.Event("L = 1e-6", lambda t, theta, row: row["loss"] - 1e-6, terminal=False)
r = gradflow.flow(loss, np.array([2.5, -1.0, 4.0]), t_end=10.0, times=np.linspace(0.5, 10, 20),
                  record_states=True, events=[small], min_value=0.0, mu=1 / 32)
print(r.status, r.states.shape, f"L = 1e-6 at t = {r.event_hits[0]['t']:.6f}", "bound holds:", r.bound_holds)
# Six digits: numpy's sin differs in the last bits between processors (its SIMD kernels).
print("theta(5) =", np.array2string(r.states[r.t == 5.0][0], precision=5), f" L(10) = {r.loss[-1]:.5e}",
      f"<= bound {r.bound[-1]:.6g}")

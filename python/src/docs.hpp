// The module's functions' documentation (help(gradflow.flow), ...): shapes, units and what each keyword
// does. The signatures pybind11 prints above them carry the defaults, which are the library's.
#pragma once

namespace gradflow::python {

inline constexpr const char* kFlowDoc =
    R"doc(Integrate the gradient flow theta' = -grad L(theta) from theta0; returns a FlowResult.

objective: a built-in (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP), a gradflow.Function,
    or a callable f(theta) -> (loss, grad) with theta and grad float64 arrays of shape (p,);
    p is len(theta0). For a callable, hvp(theta, v) -> H v (exact; used by cvode-bdf-krylov)
    and min_value (inf L, exact: enables the PL ratio and, with mu, the bound) may be given here.
theta0: the initial point, shape (p,), finite (NaN or Inf: ValueError).
solver: dopri5 (default), cash-karp54, fehlberg78, bulirsch-stoer (adaptive, odeint), euler and
    rk4 (fixed step dt), cvode-bdf, cvode-bdf-krylov (with krylov="gmres" or "pcg") and
    cvode-adams (SUNDIALS CVODE), and auto (dopri5, handing over to a cvode-bdf method while the
    problem is stiff and back; result.solver_switches lists the hand-overs). For stiff problems use
    a cvode-bdf method or auto.
t_end: final time (> 0). rtol, atol: tolerances of the adaptive solvers (rtol in (0, 1),
    atol > 0). dt: step of euler and rk4 (default 0.01).
times: record rows at these times (increasing, in (0, t_end]); save_every: or every save_every
    of flow time; neither: a row at every accepted step. The first row is t = 0, the last the
    final time.
loss_tol, grad_tol: stop once loss <= loss_tol (and ||grad L|| <= grad_tol when both are set);
    the stop is located at the crossing (status "tolerance_reached").
mu: the PL constant of the rate bound L_min + (L0 - L_min) exp(-2 mu t) (default: the problem's
    exact one). radius: check ||theta(t) - theta0|| <= radius (radius_holds).
record_states: keep theta at every row (result.states, shape (rows, p)).
dense_output: keep the interpolant (result.at(t) for t in [0, t_final]).
events: gradflow.Event objects, located on the step's interpolant (result.event_hits).
max_steps: budget of accepted steps (status "max_steps" when it runs out). max_wall_seconds: a
    wall-time budget (status "time_limit"; 0 = none).
observe: any of "ntk", "sharpness", "sharpness2", "condition", watched at every row (their columns
    in the result: ntk_min, ntk_max, condition, sharpness, sharpness_min).
observer: observer(row, theta) -> bool, called at t = 0 and after every accepted step (row a dict of
    the row's columns); a true result stops the run (status "stopped_by_observer"). row_sink:
    row_sink(row, theta), called at every recorded row. Their exceptions end the run as the loss's do.
max_step, first_step: the adaptive solvers' largest step (> 0; default inf: no limit) and first
    trial step (in (0, t_end]; default None: chosen by the solver), as solve_ivp's.

Numerical trouble is a status, not an exception: non_finite_value, step_size_too_small,
backend_error, max_steps, each with a message and the last good state. Invalid options
raise ValueError naming the option, the value and the constraint.
)doc";

inline constexpr const char* kDescendDoc =
    R"doc(Gradient descent theta_{k+1} = theta_k - eta_k grad L(theta_k) from theta0; returns a DescentResult.

objective, theta0, hvp, min_value: as for flow().
step: "fixed" (eta = lr), "inverse-smoothness" (eta = 1 / beta: exact beta, or estimated by
    power iteration from seed), "polyak" (eta = gamma (L - L_min) / ||grad L||^2; gamma default
    2 mu / beta) or "armijo" (backtracking from lr by armijo_b until the decrease armijo_c); or a
    rule of your own: an object with propose(theta, loss, grad, iter) -> step size and optionally
    guarantee(facts) -> None or dict(q=, radius=, note=) and a name attribute.
max_iters: iteration budget; loss_tol, grad_tol: stop conditions; save_every: a row every
    save_every iterations (and the last).
mu, beta: the constants of the rule's guarantee L_k - L_min <= q^k (L0 - L_min) (default: the
    problem's exact ones); ball_radius: they hold only on B(theta0, ball_radius).
divergence_factor: status "diverged" once L - L_min exceeds this factor times L0 - L_min.
record_states, events, observe, max_wall_seconds, observer, row_sink: as for flow() (events and the
    observer are checked at the iterates).
)doc";

inline constexpr const char* kCertifyDoc =
    R"doc(The rigorous local PL certificate at theta0 (docs/theory.md §4), as a dict.

For squared losses with a Lipschitz bound of the Jacobian: LeastSquares and MLP with an
activation the theory covers. Keys: applies (bool) and why_not; holds (sigma0^2 > 4 l(r*) ||r0||)
with sigma0, residual_norm, jacobian_norm, radius, lipschitz, mu (certified PL constant on
B(theta0, radius)), travel, rate (2 mu), margin, verdict; the descent certificate's
descent_holds, beta, step, descent_q, descent_travel. Rigorous, not sampled.
)doc";

inline constexpr const char* kFindScaleDoc =
    R"doc(The output scale s* above which the positive initialization of network (an MLP) is certified
(docs/theory.md §5.5).

Returns a dict: found (bool), scale (s*, relative precision 1e-9), why_not, and certificate (the
certify() dict at s*). for_descent: the threshold of the descent certificate instead of the flow's.
)doc";

}  // namespace gradflow::python

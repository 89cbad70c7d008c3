// The bare C++ peers of gradflow's flow solvers: the same objective and tolerances, integrated by the
// plainest driver of the same library, with nothing around it (no rows, no rate bound, no stop
// checks, no statistics beyond counting). They are the floor for gradflow's own machinery:
// gradflow's time over theirs is the "overhead vs bare" that gradflow_bench prints.
//
// Each peer lives in a translation unit of its own (bare_odeint.cpp: odeint's templates are heavy;
// bare_cvode.cpp).
#pragma once

#include <gradflow/core/objective.hpp>

#include <string>

namespace gradflow::bench {

struct BareResult {
  bool ok = false;
  std::string message;  // why not ok
  Vector theta;         // the state at t_end
  long grad_evals = 0;  // loss-and-gradient evaluations (every right-hand side is one)
  long steps = 0;       // accepted steps
  long jac_evals = 0;   // dense Hessians (bare CVODE BDF, dense)
  long hvp_evals = 0;   // Hessian-vector products (bare CVODE BDF, GMRES)
  long rejected = -1;   // rejected steps, where the driver reports them (-1: it does not)
};

// Boost.Odeint: integrate_adaptive with a controlled runge_kutta_dopri5 from 0 to t_end, the right-hand
// side -grad L by one loss_and_gradient call and a negation. The error checker and step adjuster are
// gradflow's (RMS norm of err / (atol + rtol |x_old|), factors 0.9 err^(-1/(q+1)) in [0.2, 10]; odeint's
// default is a max norm that also weighs dt |dxdt|), and the first step is the Hairer-Norsett-Wanner
// guess that gradflow uses (two evaluations). integrate_adaptive evaluates the start once more when it
// begins (gradflow reuses its own first evaluation): the bare peer counts one evaluation more than an
// identical step sequence in gradflow.
BareResult bare_odeint_dopri5(const Objective& f, const Vector& theta0, double t_end, double rtol, double atol);

// SUNDIALS CVODE: CVodeCreate(CV_BDF), scalar tolerances rtol and atol, a stop time at t_end and one
// call of CVode in CV_NORMAL mode. krylov false: SUNDIALS' own dense matrix and dense LU solver with the
// exact dense Hessian as the Jacobian (-H, CVodeSetJacFn), CVODE's default Jacobian reuse. krylov true:
// SPGMR without preconditioner and exact Hessian-vector products (CVodeSetJacTimes), with
// cvode-bdf-krylov's Krylov dimension, restarts and linear tolerance (core/tolerances.hpp), for
// problems without a dense Hessian (the network, p = 4160).
BareResult bare_cvode_bdf(const Objective& f, const Vector& theta0, double t_end, double rtol, double atol,
                          bool krylov);

}  // namespace gradflow::bench

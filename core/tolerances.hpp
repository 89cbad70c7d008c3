/// @file
/// Every numerical tolerance and guard that the library applies on its own, in one place, each with
/// the reason for its value. Options that a user sets (rtol, atol, loss_tol, ...) live in the options
/// structs; what is here is what the library adds to them: the round-off allowances of the verdicts,
/// the limits of its root finders and step controllers, and size thresholds.
///
/// The verdicts "the loss stays under the rate bound" and "the path stays in the ball" of the flow and
/// of descent both go through rate_bound_holds() and radius_holds() below, so that the two compare
/// with the theorem in the same way (docs/theory.md explains the allowances).
#pragma once

#include <cmath>
#include <limits>

namespace gradflow::tolerances {

inline constexpr double kEps = std::numeric_limits<double>::epsilon();  ///< machine epsilon of double, 2^-52
/// The smallest relative tolerance an adaptive solver is given (FlowOptions::validate): 100 eps, where
/// the error estimate is no longer above its own round-off (MATLAB's ode45 raises RelTol to the same floor).
inline constexpr double kMinRelativeTolerance = 100.0 * kEps;

/// --- The rate-bound and radius verdicts -----------------------------------------------------------
/// Flow: an adaptive solver controls the local error to about rtol relative, and the global error of
/// a contracting flow stays within a small multiple of it: 10 rtol relative to the bound.
inline constexpr double kFlowBoundRelativeRtols = 10.0;
/// Flow: L0 itself is computed with a few ulps of error, so a bound near 0 is only known to a few
/// ulps of L0: a floor of 16 eps L0 (seen: losses of 1e-21 against a bound of 1e-25 at L0 ~ 1).
inline constexpr double kFlowBoundRoundoffUlps = 16.0;
/// Flow: the state is accurate to rtol relative (plus atol): 10 rtol relative on the radius.
inline constexpr double kFlowRadiusRelativeRtols = 10.0;
/// Descent: each iteration's loss carries the rounding of one gradient step, and q^k L0 falls below
/// the precision of L0 after enough iterations: a floor of 64 eps L0 (needed near L ~ 1e-23).
inline constexpr double kDescentBoundRoundoffUlps = 64.0;
/// Descent: the path length is a sum of k rounded step lengths: 1e-12 relative, and 1e-300 so that a
/// radius of 0 (a start at the minimizer) compares equal.
inline constexpr double kDescentRadiusRelative = 1e-12;
inline constexpr double kDescentRadiusAbsolute = 1e-300;  ///< absolute allowance on the path length

/// L - L_min <= (B - L_min) (1 + relative_slack) + roundoff_ulps eps |L0|: the loss is under its rate
/// bound B, allowing the solver's relative error and the round-off floor. Written with "not greater"
/// so that a NaN loss counts as a violation.
inline bool rate_bound_holds(double excess, double bound_excess, double relative_slack, double roundoff_ulps,
                             double loss0) {
  return excess <= bound_excess + (bound_excess * relative_slack + roundoff_ulps * kEps * std::abs(loss0));
}

/// distance <= radius (1 + relative) + absolute; a NaN distance counts as a violation.
inline bool radius_holds(double distance, double radius, double relative, double absolute) {
  return distance <= radius * (1.0 + relative) + absolute;
}

/// --- Locating a stop inside a step ----------------------------------------------------------------
/// The crossing is bracketed down to 4 ulps of the time (below that, the event function is noise).
inline constexpr double kCrossingUlps = 4.0;
/// Illinois halves the bracket at least every other iteration: 200 are far more than 4 ulps need.
inline constexpr int kCrossingMaxIterations = 200;
/// Events (the tolerance stop among them) are located to |dt| <= 1e-12 (1 + |t|): far below any
/// solver tolerance, and reached in a few Illinois iterations (each costs a gradient evaluation).
inline constexpr double kEventTimeRelative = 1e-12;

/// Dense output of the adaptive solvers without their own stored interpolant: a step's Hermite piece is
/// halved at most 10 times (1024 pieces) to agree with the solver's interpolant at the midpoints.
inline constexpr int kDenseHalvings = 10;

/// Rows every save_every up to t_end: k save_every <= t_end allowing 4 ulps for the rounding of
/// t_end / save_every (so that t_end = 1, save_every = 0.1 gives 10 rows, not 9).
inline constexpr double kOutputGridUlps = 4.0;

/// --- Step-size guards -----------------------------------------------------------------------------
/// CVODE: a step shorter than 16 ulps of t makes no progress in t ...
inline constexpr double kStallUlps = 16.0;
/// ... and 5 such steps in a row are a stall (step_size_too_small), not a transient.
inline constexpr int kMaxStalledSteps = 5;
/// odeint: an accepted step that leaves theta unchanged, bit for bit, while the gradient is not zero
/// and the step is shorter than kStallUlps ulps of t_end (the run could not reach t_end in any budget)
/// makes no progress either: kMaxStalledSteps of them in a row end the run as step_size_too_small. (A
/// gradient of norm 1e150 holds the step near 1e-300: t then creeps from 0 while theta stays put.)
/// odeint: a step rejected this many times in a row is given up as too small (a guard; the step size
/// normally underflows first). Also the budget of the restep that interpolates inside a step.
inline constexpr long kMaxConsecutiveRejections = 10000;
/// odeint's controlled steppers: the next step is safety err^(-1/(q+1)) times this one, kept within
/// [0.2, 10] times this one; the values of Hairer, Norsett & Wanner and of SciPy's RK45.
inline constexpr double kStepSafety = 0.9;
inline constexpr double kMinStepFactor = 0.2;   ///< the next step is at least 0.2 times this one
inline constexpr double kMaxStepFactor = 10.0;  ///< the next step is at most 10 times this one
/// The stiffness hint of the explicit adaptive solvers (odeint back end): a step is held at the
/// stability limit when h rho >= 1, rho = ||v(x1) - v(x0)|| / ||x1 - x0|| (a lower bound of the local
/// Lipschitz constant of the field; the methods' stability intervals reach 2.5 to 5 on the negative
/// axis, so a step this long is within a small factor of the limit, not limited by accuracy).
inline constexpr double kStabilityLimitedStep = 1.0;
/// What a stiff method (BDF of order up to 5) would need there: steps of rtol^(1/6) tau, tau the time
/// scale of the dissipation rate ||grad L||^2 (tau = ||g||^2 h / |change of ||g||^2 over the step|),
/// each costing about 3 gradient evaluations (a Newton iteration or two and the Jacobian's share).
inline constexpr double kStiffOrderPlusOne = 6.0;
inline constexpr double kStiffEvaluationsPerStep = 3.0;  ///< gradient evaluations per stiff-method step
/// The hint is given when the explicit run spent more than 100 times that, and at least 10^4 gradient
/// evaluations (below that, the choice of method does not matter).
inline constexpr double kStiffHintRatio = 100.0;
inline constexpr double kStiffHintMinEvaluations = 1e4;  ///< no hint below this many gradient evaluations
/// The evidence is gathered on every 8th accepted step (standing for the 7 before it): a sample copies
/// two vectors, which would otherwise be a measurable share of a step on cheap problems.
inline constexpr long kStiffnessSampleEvery = 8;
/// The samples are judged in windows of this many (512 accepted steps): see StiffnessEvidence.
inline constexpr long kStiffnessWindow = 64;
/// Fixed-step solvers: t_end / dt within 1e-9 relative of an integer is that many whole steps (t_end
/// and dt given in decimal are rarely exact multiples in binary).
inline constexpr double kGridMultipleRelative = 1e-9;

/// --- CVODE's Newton solver with an exact Hessian ---------------------------------------------------
/// CVODE's own defaults: a new Jacobian every 50 steps (msbj), and a new factorization when gamma has
/// moved by 30% (dgmax).
inline constexpr long kStepsBetweenHessians = 50;
inline constexpr double kGammaChange = 0.3;  ///< refactor when gamma has moved by this fraction (dgmax)
/// 1 + gamma lambda this close to 0 makes the Newton matrix singular: a recoverable failure, so that
/// CVODE retries with a smaller step.
inline constexpr double kMinNewtonPivot = 1e-14;

/// --- CVODE's Newton-Krylov solver (cvode-bdf-krylov, no preconditioner) ----------------------------
/// The Newton matrix I + gamma H of a stiff flow has eigenvalues from 1 to 1 + gamma beta (1e5 and more
/// late in a run with beta = 1e4), and an unpreconditioned Krylov method needs tens of iterations on it.
/// With CVODE's defaults (Krylov dimension 5, no restart) most solves stopped unconverged: CVODE keeps
/// such a solve on the first Newton iteration (an error in the slow modes, which do not decay, and which
/// the local error estimate does not see) and counts a convergence failure on later ones (the step is
/// cut). On a quadratic with p = 50 and eigenvalues 1e-2 ... 1e4 at rtol 1e-6 that gave 550 (PCG: 5)
/// times dense BDF's error for 18 times its gradient evaluations (issue 26, item 4; docs/theory.md §1.4).
/// With the values below: dense BDF's error, and 1.00 (PCG 1.02) times its gradients; on p = 200, and on
/// eigenvalues up to 1e6, at most 1.15 times; on the benchmarks' network -7% to +12% of the gradients before.
///
/// GMRES: a Krylov space of up to 30 vectors (p when p is smaller: GMRES is then exact), restarted at
/// most twice (90 iterations, with the memory of 30 vectors of p). With CVODE's other defaults, 20 left
/// 1.5 times dense BDF's gradients on that quadratic and 50 did no better than 30; the restarts are for
/// harder spectra (p = 200: 1.9 times without them, 1.15 with them).
inline constexpr long kGmresMaxKrylovDimension = 30;
inline constexpr int kGmresMaxRestarts = 2;  ///< GMRES restarts at most
/// PCG keeps a few vectors whatever its iteration budget, so the budget can be larger than GMRES's
/// space: up to 100 iterations. 30 left eigenvalues up to 1e6 at 4.4 times dense BDF's gradients, 100 at
/// 1.08 times (and p = 200 at 1.03 times).
inline constexpr long kPcgMaxIterations = 100;
/// The linear solves' tolerance is this times the Newton tolerance (CVodeSetEpsLin; CVODE's default is
/// 0.05). A looser solve leaves noise in the corrections, which the error estimate and the order choice
/// see: with 0.05 GMRES took 1.26 times dense BDF's gradients on the quadratic, with 0.01 1.00 (PCG 1.03
/// either way), and on the benchmarks' network -2% to +14% of the gradients it took with 0.05.
inline constexpr double kKrylovLinearToleranceFactor = 0.01;

/// --- Sizes ------------------------------------------------------------------------------------------
/// Networks with at most this many parameters offer a dense Hessian (p Hessian-vector products, p^2
/// doubles: 32 MB at 2000), which cvode-bdf then factors; larger ones are matrix-free only.
inline constexpr long kMaxDenseHessianParameters = 2000;
/// A flow run records at most this many rows (times, or t_end / save_every): 1e7 rows are 480 MB.
inline constexpr double kMaxRecordedRows = 1e7;

/// --- What is observed along a path (theory/observables.hpp, docs/theory.md §8) ------------------------
/// The NTK J J^T (n x n) is formed and decomposed densely (n^2 doubles: 32 MB, and O(n^3) flops, at
/// 2000) up to this many residuals; above it, Lanczos on products J (J^T v).
inline constexpr long kMaxDenseGramResiduals = 2000;
/// A dense Jacobian (n p doubles: 400 MB at 5e7) is formed for the Gram matrix only up to this size;
/// above it the Gram matrix is formed column by column from n products J (J^T e_i).
inline constexpr double kMaxDenseJacobianEntries = 5e7;
/// Lanczos keeps every vector for its full reorthogonalization: at most 300 of them (p x 300 doubles,
/// 240 MB at p = 1e5); the extreme eigenvalues of the operators here converge long before.
inline constexpr long kLanczosMaxVectors = 300;
/// A Lanczos vector shorter than 1e-10 of the operator's scale after reorthogonalization (which leaves
/// about sqrt(k) eps of it) means an invariant subspace: a breakdown, not a direction.
inline constexpr double kLanczosBreakdown = 1e-10;
/// Lanczos stops when the extreme Ritz pairs have residuals ||A y - theta y|| <= 1e-7 of the largest
/// |Ritz value|: some eigenvalue lies within that residual of each (and within its square over the
/// gap), far below what a row reports with 6 to 10 digits.
inline constexpr double kLanczosObserveRtol = 1e-7;
/// Without a warm start (the first row, and every NTK row, which starts from the residual vector r) at
/// least 8 products before the convergence test, so that a start lying in a few eigen-directions (r in
/// the null space of J^T at a least-squares floor) does not end the search there.
inline constexpr int kLanczosColdMinIterations = 8;
/// The identity ||grad L||^2 = r^T J J^T r >= 2 lambda_min(J J^T) L is checked at every row where the
/// NTK is observed, allowing 1e-9 of ntk_max: the eigensolvers' backward error (n eps ||J J^T||, below
/// 5e-13 ||J J^T|| at n = 2000) and the few ulps of the gradient and the loss are far below it, and a
/// wrong derivative or eigenvalue far above it.
inline constexpr double kNtkIdentityRelative = 1e-9;

/// --- The certificate's one-dimensional searches ----------------------------------------------------
/// Golden-section and bisection searches over the radius stop at 1e-15 relative (a few ulps) ...
inline constexpr double kRadiusSearchRelative = 1e-15;
/// ... or after 300 golden-section / 200 bisection iterations, more than 1e-15 needs.
inline constexpr int kGoldenSectionMaxIterations = 300;
inline constexpr int kBisectionMaxIterations = 200;  ///< bisection iterations at most
/// The scale threshold s* is bisected to 1e-9 relative: the printed scale has 6 digits, and each
/// probe costs one certificate.
inline constexpr double kScaleSearchRelative = 1e-9;
/// The scale is bracketed by doubling (halving) from s = 1 at most 80 times: s in [2^-80, 2^80]
/// covers every scale a double-precision network can use.
inline constexpr int kScaleDoublings = 80;

/// The sampled (not rigorous) local constants of problems without residual structure: at each sample
/// point, 100 power iterations to 1e-6 relative; a local estimate needs no more.
inline constexpr int kSampledSmoothnessIterations = 100;
inline constexpr double kSampledSmoothnessRtol = 1e-6;  ///< relative tolerance of those power iterations

}  // namespace gradflow::tolerances

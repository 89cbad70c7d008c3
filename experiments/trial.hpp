/// @file
/// One trial of the experiments, the pipeline that sweeps, compare-inits and the probability estimate
/// share: initialize -> certify -> (estimate the sharpness) -> train by descent or by the flow ->
/// measure. run_trial() is the only place where a trial runs, so the same TrialSpec gives the same bits
/// whichever command asked for it (a test checks sweep, compare-inits and probability against it).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/trajectory.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/observables.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace gradflow {

/// beta0 = the largest |eigenvalue| of the Hessian at theta0, by power iteration on the objective's
/// Hessian-vector products from a seeded start (theory/power_iteration.hpp): an estimate, exact for a
/// quadratic up to the iteration's tolerance. tuned-fixed divides its step factor by it (lr = c /
/// beta0); the flow protocol multiplies its time by it (t x beta0, comparable across output scales).
double initial_sharpness(const Objective& objective, const Vector& theta0, std::uint64_t seed);

/// The trajectory kept for the plots: rows (flow/trajectory.hpp) with iter the iteration or the
/// accepted flow step, bound the certified bound (NaN when not certified: the flow's L0 exp(-2 mu t), a
/// descent run's L0 q^k with its rule's q, discrete/run_guarantee.hpp), and with
/// TrialSpec::observe the observables there. Written to the sweeps' curves through the row field table
/// (flow/row_fields.hpp, the kCurveRows columns).
using CurvePoint = Row;

/// What TrialSpec::observe saw at the trial's recorded rows (theory/observables.hpp; NaN where not
/// observed). The rows: descent's theta0, every max_steps / curve_points iterations and the last; the
/// flow's every accepted step.
struct TrialObserved {
  long rows = 0;                                                    ///< the recorded rows observed (0: none)
  double ntk_min = std::numeric_limits<double>::quiet_NaN();        ///< the smallest ntk_min along the rows
  double ntk_max = std::numeric_limits<double>::quiet_NaN();        ///< the largest ntk_max
  double pl_margin = std::numeric_limits<double>::quiet_NaN();      ///< the smallest pl_ratio - ntk_min (>= 0)
  double sharpness0 = std::numeric_limits<double>::quiet_NaN();     ///< the sharpness at theta0
  double sharpness_max = std::numeric_limits<double>::quiet_NaN();  ///< the largest along the rows
  /// sharpness2: the smallest Hessian eigenvalue along the rows (sharpness_min; negative away from a minimum).
  double sharpness_min = std::numeric_limits<double>::quiet_NaN();
  /// Descent: the largest eta x sharpness, against 2: eta_k (the step taken from theta_k) x the sharpness
  /// at theta_k, at every one of the first kDenseEdgeSteps iterates (with sharpness observed) and at the
  /// recorded rows after them (the step that produced the row, at the row's sharpness).
  double eta_sharpness_max = std::numeric_limits<double>::quiet_NaN();
  /// Descent with sharpness: eta_0 x sharpness(theta0), the first step against the edge (a catapult's start).
  double eta_sharpness0 = std::numeric_limits<double>::quiet_NaN();
  /// Descent with sharpness: the fraction of the eta x sharpness samples (the dense start and the recorded
  /// rows: a sampled estimate, not every step) at or above kEdgeOfStability, and their number.
  double edge_fraction = std::numeric_limits<double>::quiet_NaN();
  long edge_samples = 0;  ///< the number of eta x sharpness samples behind edge_fraction
};

/// Edge of stability, descent: the first iterates observed at every step, the level counted as "at the
/// edge" (eta x sharpness near 2), and the rise above the lowest loss so far that starts a catapult.
inline constexpr long kDenseEdgeSteps = 20;
inline constexpr double kEdgeOfStability = 1.9;  ///< eta x sharpness at or above it counts as at the edge
inline constexpr double kCatapultRise = 0.01;    ///< a relative rise: the loss above (1 + it) x the lowest so far

/// The most times a flow run is repeated with rtol / 10 to settle its time to the target.
inline constexpr int kMaxTimeTightenings = 3;

/// Everything one trial needs: the initialization, the method and its settings, the target, and what to
/// measure. run_trial() runs it.
struct TrialSpec {
  InitOptions init;                ///< scheme, seed and output scale (already resolved: no search here)
  Method method;                   ///< a descent step rule or a flow solver
  double eps = 1e-6;               ///< the target: loss <= eps L0 ...
  std::optional<double> loss_tol;  ///< ... or loss <= loss_tol (absolute) when set
  long max_steps = 5000;           ///< descent iterations or accepted flow steps
  double lr = 1.0;                 ///< descent: fixed step or armijo's first trial (unless lr_c > 0)
  double lr_c = 0.0;               ///< tuned-fixed: lr = lr_c / beta0
  std::optional<double> gamma;     ///< polyak's damping
  DescentOptions descent;          ///< the other descent settings (armijo_b, armijo_c, ...); the fields above,
                                   ///< with max_iters, loss_tol, save_every and seed, are set by run_trial
  double t_end = 1e6;              ///< flow: end time
  double rtol = 1e-8;              ///< flow: the solver's tolerances (FlowOptions::rtol, atol)
  double atol = 1e-10;             ///< flow: the absolute tolerance (FlowOptions::atol)
  /// flow: the time to the target is computed to this relative accuracy: the run is repeated with rtol and
  /// atol divided by 10 (at most kMaxTimeTightenings times) until two successive times agree to it;
  /// 0 turns the check off (the time of the first run only).
  double time_accuracy = 0.01;
  bool measure_beta0 = true;  ///< estimate beta0 (needed by lr_c > 0)
  int curve_points = 0;       ///< trajectory points kept (0: none)
  Observables observe;        ///< watched at the recorded rows (TrialObserved); costs no gradient
  /// Held-out points (experiments/held_out.hpp): with test (and train, the network's own training data,
  /// for the minimum-norm interpolant), the trained network's metrics on them (TrialResult::held_out).
  /// Not owned: they must outlive the call.
  const NetworkData* train = nullptr;
  const NetworkData* test = nullptr;  ///< the held-out points (null: none)
  /// The NTK J J^T at theta0 and at the final theta (n <= tolerances::kMaxDenseGramResiduals): its drift
  /// and its condition number at theta0 (TrialResult::ntk_drift, ntk_condition0). Costs no gradient.
  bool kernel_endpoints = false;
};

/// What run_trial() found: the certificate at theta0, the training's outcome and work, its curve and
/// observations, and the trained network's travel, kernel drift and held-out metrics.
struct TrialResult {
  Certificate certificate;  ///< at theta0 (flow and descent verdicts both)
  /// The certificate of the method and step that ran: 1 holds, 0 does not, -1 does not apply. The flow:
  /// certificate.holds. Descent: the guarantee of the rule with the step it used (run_guarantee()) under
  /// the certificate's mu and beta_r on B(theta0, r*): for a fixed eta, Theorem 2 (eta beta_r < 2 and
  /// rho0 / (1 - beta_r eta / 2) < r*), so a step far above 1/beta_r is not certified.
  int certified = -1;
  /// When certified: the travel bound of the method that ran (the flow's sqrt(2 L0 / mu); descent's rule's
  /// radius, rho0 / (1 - beta_r eta / 2) for a fixed eta). NaN otherwise.
  double certified_travel = std::numeric_limits<double>::quiet_NaN();
  double loss0 = 0.0;   ///< L0 = L(theta0), the training loss at initialization
  double target = 0.0;  ///< the absolute loss to reach
  /// The sharpness at theta0 (initial_sharpness()); NaN unless TrialSpec::measure_beta0 or lr_c > 0.
  double beta0 = std::numeric_limits<double>::quiet_NaN();
  double lr = std::numeric_limits<double>::quiet_NaN();  ///< descent's step (or first trial)
  bool reached = false;    ///< the training stopped at the target (status tolerance_reached, loss <= target)
  long steps = 0;          ///< descent iterations or accepted flow steps made
  long steps_to_eps = -1;  ///< steps when reached, else -1
  /// When reached: the flow time to the target (the most accurate of the tightened runs) or the sum of the
  /// descent's steps; NaN otherwise.
  double time_to_eps = std::numeric_limits<double>::quiet_NaN();
  /// flow: the rtol of the run whose time is time_to_eps (TrialSpec::time_accuracy), and the relative
  /// change of the time at the last tightening, its accuracy: NaN when the time was not checked, +inf when
  /// a tighter run did not reach the target, above time_accuracy when it did not settle within
  /// kMaxTimeTightenings.
  double time_rtol = std::numeric_limits<double>::quiet_NaN();
  double time_change = std::numeric_limits<double>::quiet_NaN();  ///< flow: that relative change (see above)
  double final_loss = 0.0;                                        ///< the training loss at the end
  /// Descent: the iterations whose loss is above the previous one's, and the catapults (the loss climbs
  /// more than kCatapultRise above the lowest loss so far, then falls below that lowest loss).
  long loss_rises = 0;
  long catapults = 0;               ///< descent: the catapults (above)
  Status status = Status::not_run;  ///< how the training (the descent or the first flow run) ended
  Stats stats;                      ///< the training's work only
  std::vector<CurvePoint> curve;    ///< at most TrialSpec::curve_points rows, evenly thinned (empty for 0)
  TrialObserved observed;           ///< with TrialSpec::observe
  HeldOutMetrics held_out;          ///< with TrialSpec::test (NaN otherwise)
  /// ||theta_T - theta0||, and that over the certificate's radius r* (NaN when the certificate does not
  /// apply); the theory needs the run to stay within r*.
  double travel = std::numeric_limits<double>::quiet_NaN();
  double travel_fraction = std::numeric_limits<double>::quiet_NaN();  ///< travel / r*
  /// With TrialSpec::kernel_endpoints: ||K_T - K_0||_F / ||K_0||_F for the NTK K = J J^T at theta0 and at the
  /// final theta, and lambda_max(K_0) / lambda_min(K_0) (+inf when lambda_min <= 0). NaN otherwise.
  double ntk_drift = std::numeric_limits<double>::quiet_NaN();
  double ntk_condition0 = std::numeric_limits<double>::quiet_NaN();  ///< lambda_max(K_0) / lambda_min(K_0)
};

/// The network must be the caller's own (it keeps scratch space): one per thread.
TrialResult run_trial(const Mlp& network, const TrialSpec& spec);

}  // namespace gradflow

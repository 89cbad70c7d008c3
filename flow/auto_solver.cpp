// solver auto: dopri5 until its steps sit at their stability limit, BDF while the problem is stiff,
// dopri5 again when BDF's own step would be stable for it (flow/detail/auto_switch.hpp).
#include <gradflow/flow/detail/auto_switch.hpp>
#include <gradflow/flow/detail/run_state.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gradflow::detail {

// The Hessian's spectral radius at theta by power iteration from the last direction (warm start):
// iterations Hessian-vector products, counted as the run's own. 0 when the iteration breaks down.
double AutoSwitch::spectral_radius(RunState& run, int iterations) {
  const Eigen::Index p = run.theta.size();
  if (direction_.size() != p) direction_ = Vector::LinSpaced(p, 1.0, 2.0);  // weight on every coordinate
  Vector image(p);
  double rho = 0.0;
  for (int k = 0; k < iterations; ++k) {
    const double norm = direction_.norm();
    if (!(norm > 0.0) || !std::isfinite(norm)) {
      direction_ = Vector::LinSpaced(p, 1.0, 2.0);
      return 0.0;
    }
    direction_ /= norm;
    run.field.jacobian_times(run.theta, direction_, image);  // -H v
    rho = image.norm();
    direction_.swap(image);
  }
  return std::isfinite(rho) ? rho : 0.0;
}

bool AutoSwitch::stiff_after(RunState& run, double h, double dx, double dv) {
  ++steps_since_check_;
  if (!(dx > 0.0)) return false;
  const double estimate = h * dv / dx;
  last_h_rho_ = estimate;
  // Hairer & Wanner's test on the step's own stages.
  if (estimate >= kStiffHRho) {
    non_stiff_ = 0;
    if (++stiff_ >= kStiffSteps) return true;
  } else if (++non_stiff_ >= kNonStiffSteps) {
    stiff_ = 0;
  }
  // The stage estimate sees the stiff direction late, or not at all while the stiff components are
  // below round-off: the power iteration measures h rho itself once the estimate reaches kTrigger,
  // and otherwise on a schedule whose spacing doubles after each check that finds no stiffness (so
  // that a problem that is not stiff pays a vanishing share of Hessian-vector products).
  const bool triggered = estimate >= kTrigger && steps_since_check_ >= kCheckSpacing;
  if (!triggered && steps_since_check_ < spacing_) return false;
  steps_since_check_ = 0;
  last_h_rho_ = h * spectral_radius(run, kPowerIterations);
  if (last_h_rho_ >= kConfirmedHRho) {
    spacing_ = kCheckSpacing;
    return ++confirmed_ >= 2;
  }
  confirmed_ = 0;
  spacing_ = std::min(2 * spacing_, kMaxSpacing);
  return false;
}

bool AutoSwitch::calm_after(RunState& run, double h) {
  if (++steps_since_check_ < spacing_) return false;
  steps_since_check_ = 0;
  last_h_rho_ = h * spectral_radius(run, kPowerIterations);
  // Far from calm: look again later (the spacing doubles), near it: soon.
  spacing_ = last_h_rho_ > kFarFromCalm * kBackLimit ? std::min(2 * spacing_, kMaxSpacing) : kFirstCheck;
  if (last_h_rho_ > 0.0 && last_h_rho_ <= kBackLimit) return ++calm_checks_ >= 2;
  calm_checks_ = 0;
  return false;
}

void AutoSwitch::start_segment() {
  spacing_ = kFirstCheck;
  confirmed_ = 0;
  steps_since_check_ = 0;
  stiff_ = 0;
  non_stiff_ = 0;
  calm_checks_ = 0;
}

Solver auto_implicit_solver(const Objective& objective) {
  return objective.dimension() <= kAutoDenseDimension ? Solver::cvode_bdf : Solver::cvode_bdf_krylov;
}

void run_auto(RunState& run) {
  AutoSwitch watch;
  const Solver implicit = auto_implicit_solver(run.field.objective());
  const long budget = max_steps(run.options.stop, RunKind::flow);
  bool explicit_phase = true;
  double last_step = 0.0;  // the last accepted step of the segment that handed over
  while (true) {
    FlowOptions segment = run.options;
    segment.solver = explicit_phase ? Solver::dopri5 : implicit;
    segment.stop.max_steps = std::max(budget - run.stats.num_steps, 1L);
    if (run.stats.num_steps >= budget) {
      run.finish(Status::max_steps, "max_steps = " + std::to_string(budget) + " accepted steps reached before t_end");
      return;
    }
    // The first trial step is the caller's at the start; BDF after dopri5 starts from dopri5's last
    // step (its own estimate is far smaller: it would climb back through order 1); dopri5 after BDF
    // chooses its own.
    if (!run.switches.empty()) segment.first_step.reset();
    if (!explicit_phase && last_step > 0.0) segment.first_step = std::min(last_step, run.options.t_end - run.t);
    RunState part(segment, run.field, run.monitor);
    part.continue_from(run);
    part.dense = run.dense;
    const bool may_switch = static_cast<int>(run.switches.size()) < AutoSwitch::kMaxSwitches;
    part.auto_switch = may_switch ? &watch : nullptr;
    part.switch_requested = false;
    watch.start_segment();
    if (explicit_phase) {
      run_odeint(part);
    } else {
      run_cvode(part);
    }
    last_step = part.t - run.t > 0.0 ? part.last_step : 0.0;
    run.continue_from(part);
    add_counts(run.stats, part.stats);
    if (run.departure.empty()) run.departure = part.departure;
    if (!part.switch_requested) {
      run.status = part.status;
      run.message = part.message;
      return;
    }
    char why[200];
    if (explicit_phase) {
      std::snprintf(why, sizeof why,
                    "dopri5's steps sat at its stability limit (h |lambda| = %.3g >= %.3g on %d steps)",
                    watch.last_h_rho(), AutoSwitch::kStiffHRho, AutoSwitch::kStiffSteps);
    } else {
      std::snprintf(why, sizeof why, "BDF's step is stable for dopri5 (h rho = %.3g <= %.3g on 2 checks)",
                    watch.last_h_rho(), AutoSwitch::kBackLimit);
    }
    run.switches.push_back(SolverSwitch{run.t, explicit_phase ? Solver::dopri5 : implicit,
                                        explicit_phase ? implicit : Solver::dopri5, why});
    explicit_phase = !explicit_phase;
  }
}

}  // namespace gradflow::detail

// solver auto (docs/theory.md §1.6): when a run hands over from the explicit method (dopri5) to BDF and
// back. The segments are the back ends' own runs (run_odeint, run_cvode) on the same RunState; the
// switch only watches their accepted steps.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/flow/options.hpp>

namespace gradflow::detail {

struct RunState;

class AutoSwitch {
 public:
  // The explicit segment, after each accepted step of length h: dx = ||x1 - y|| and dv = ||v(x1) - v(y)||,
  // y the step's stage at its end time. h dv / dx estimates h |lambda| for the field's dominant
  // eigenvalue (Hairer & Wanner's stiffness test for DOPRI5, Solving ODEs II, IV.2): at or above 3.25
  // the step sits on the boundary of dopri5's stability region. True (hand over to BDF) when that
  // happened on 15 steps with no 6 in a row below it in between; or, sooner, when a power iteration
  // (kPowerIterations Hessian-vector products) finds h rho >= kConfirmedHRho on two checks in a row.
  // The power iteration runs once the estimate reaches kTrigger (at most every kCheckSpacing steps),
  // and otherwise after kFirstCheck steps, then at a spacing that doubles (up to kMaxSpacing) after
  // each check that finds no stiffness: the stage estimate stays small while the stiff components are
  // below round-off, although the steps are already held at the stability limit.
  bool stiff_after(RunState& run, double h, double dx, double dv);

  // The implicit segment, after each accepted step of length h: after kFirstCheck steps, then at a
  // spacing that doubles while h rho > kFarFromCalm kBackLimit, the Hessian's spectral radius rho at
  // theta is estimated by power iteration (kPowerIterations Hessian-vector products, counted as the
  // run's own); true (hand back to dopri5) when h rho <= kBackLimit on two checks in a row: dopri5
  // would be stable at BDF's own step, with room.
  bool calm_after(RunState& run, double h);

  // A new segment: the counters of the previous one are dropped.
  void start_segment();

  double last_h_rho() const { return last_h_rho_; }  // the estimate behind the last decision

  static constexpr double kStiffHRho = 3.25;
  static constexpr double kTrigger = 1.0;
  static constexpr double kConfirmedHRho = 2.0;  // 60% of dopri5's stability interval [-3.3, 0]
  static constexpr int kCheckSpacing = 5;
  static constexpr int kStiffSteps = 15;
  static constexpr int kNonStiffSteps = 6;
  static constexpr long kFirstCheck = 20;
  static constexpr long kMaxSpacing = 320;
  static constexpr double kFarFromCalm = 10.0;
  static constexpr int kPowerIterations = 6;
  static constexpr double kBackLimit = 1.0;
  static constexpr int kMaxSwitches = 20;  // then the last method runs to the end (no flip-flop)

 private:
  double spectral_radius(RunState& run, int iterations);
  int confirmed_ = 0;
  long steps_since_check_ = 0;
  int stiff_ = 0;
  int non_stiff_ = 0;
  long spacing_ = kFirstCheck;
  int calm_checks_ = 0;
  double last_h_rho_ = 0.0;
  Vector direction_{};
};

// The implicit method of solver auto for this problem: cvode-bdf up to kAutoDenseDimension parameters
// (the exact dense Hessian where the problem has one, else CVODE's difference quotients: either way a
// p x p factorization is cheap there), cvode-bdf-krylov above (Hessian-vector products only; a dense
// Hessian of the network costs p^2 memory and a p^3 factorization: 1.6 s against 0.02 s at p = 1312).
Solver auto_implicit_solver(const Objective& objective);
inline constexpr Eigen::Index kAutoDenseDimension = 200;

// Runs solver auto on run (from run.t to the end): dopri5 first, then BDF while the problem is stiff.
void run_auto(RunState& run);

}  // namespace gradflow::detail

// What simulate_flow hands to a back end, and what the back end leaves behind: the current (last
// good) point and its loss and gradient, the counters the back end owns, and how the run ended.
#pragma once

#include <gradflow/flow/detail/trajectory_monitor.hpp>
#include <gradflow/flow/gradient_flow_field.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace gradflow::detail {

class AutoSwitch;

// How a back end interpolates inside an accepted step, for the dense output (flow/dense_output.hpp).
enum class Interpolant {
  hermite,          // cubic Hermite on theta and -grad L at both ends (rk4: of the method's order)
  hermite_checked,  // the same, halved until it agrees with the back end's state_at at the midpoints
  linear,           // euler's own: theta0 + (t - t0) v0
  quintic,          // dopri5's own continuous extension, sampled at six points of the step
};

// A loss and gradient a run can go on from: the loss finite, and the gradient's squared norm finite,
// which is false for an Inf or NaN entry and also when the entries are finite but the norm
// overflows (||grad L|| > 1.3e154): such a gradient is as unusable as an infinite one.
inline bool finite_loss_and_gradient(double loss, const Vector& grad) {
  return std::isfinite(loss) && std::isfinite(grad.squaredNorm());
}

// Whether every entry of x is finite, in one vectorized pass: x_i * 0 is 0 for a finite entry and NaN
// for an Inf or NaN one, and a sum holding a NaN is NaN. (Eigen's allFinite() compares x - x with
// itself entry by entry: three times the instructions, on every step.)
inline bool all_entries_finite(const Vector& x) { return std::isfinite((x.array() * 0.0).sum()); }

struct RunState {
  RunState(const FlowOptions& options_in, GradientFlowField& field_in, TrajectoryMonitor& monitor_in)
      : options(options_in), field(field_in), monitor(monitor_in) {}

  const FlowOptions& options;
  GradientFlowField& field;
  TrajectoryMonitor& monitor;

  // The last accepted point: back ends keep it current, so that a failure leaves the last good state.
  double t = 0.0;
  Vector theta;
  double loss = 0.0;
  Vector grad;
  double path_length = 0.0;

  Stats stats;  // back-end counters: steps, rejections, iterations, Jacobian evaluations
  Status status = Status::not_run;
  std::string message;

  DenseOutput* dense = nullptr;  // the interpolant being recorded (options.dense_output), else nullptr
  Interpolant interpolant = Interpolant::hermite_checked;  // set by the back end
  std::string stiffness_hint;                              // set by the odeint back end (docs/theory.md §1.4)
  std::string departure;  // set by the odeint back end: the dissipation identity failed (docs/theory.md §1.5)

  // solver auto (flow/detail/auto_switch.hpp): a segment watched by auto_switch returns with
  // switch_requested (and its status not_run) when it hands over; run_auto records the switches.
  AutoSwitch* auto_switch = nullptr;
  bool switch_requested = false;
  double last_step = 0.0;  // the last accepted step's length (set by the back ends for solver auto)
  std::vector<SolverSwitch> switches;

  // Takes over other's current point (t, theta, loss, gradient, path length): a segment of solver auto
  // starts where the run is, and the run goes on from where the segment ended.
  void continue_from(const RunState& other) {
    t = other.t;
    theta = other.theta;
    loss = other.loss;
    grad = other.grad;
    path_length = other.path_length;
  }

  void finish(Status s, std::string why) {
    status = s;
    message = std::move(why);
  }
};

void run_odeint(RunState& run);
void run_cvode(RunState& run);

}  // namespace gradflow::detail

// What simulate_flow hands to a back end, and what the back end leaves behind: the current (last
// good) point and its loss and gradient, the counters the back end owns, and how the run ended.
#pragma once

#include <gradflow/flow/detail/trajectory_monitor.hpp>
#include <gradflow/flow/gradient_flow_field.hpp>

#include <string>

namespace gradflow::detail {

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

  void finish(Status s, std::string why) {
    status = s;
    message = std::move(why);
  }
};

void run_odeint(RunState& run);
void run_cvode(RunState& run);

}  // namespace gradflow::detail

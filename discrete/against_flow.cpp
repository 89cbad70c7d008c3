#include <gradflow/discrete/against_flow.hpp>

#include <gradflow/flow/simulate_flow.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gradflow {

FlowOptions FlowFollower::accurate() {
  FlowOptions options;
  options.solver = Solver::dopri5;
  options.rtol = 1e-10;
  options.atol = 1e-12;
  return options;
}

FlowFollower::FlowFollower(const Objective& objective, const Vector& theta0, double leave_tol, FlowOptions flow)
    : objective_(objective),
      theta0_(theta0),
      theta0_norm_(theta0.norm()),
      leave_tol_(leave_tol),
      flow_(std::move(flow)),
      theta_(theta0),
      loss_(objective.loss(theta0)) {
  if (!(leave_tol > 0.0) || !std::isfinite(leave_tol)) {
    throw std::invalid_argument("FlowFollower: leave_tol must be finite and > 0");
  }
  // Only the end of each segment is needed.
  flow_.save = SaveAt{};
  flow_.save.keep_rows = false;
  flow_.observe = Observables{};
  flow_.stop.loss_tol = 0.0;
  flow_.stop.grad_tol = 0.0;
  flow_.radius.reset();
}

FlowComparison FlowFollower::compare(const Row& row, const ConstVectorView& theta, double eta) {
  FlowComparison c;
  if (!failure_.empty()) return c;
  if (row.t > t_) {
    FlowOptions segment = flow_;
    segment.t_end = row.t - t_;
    segment.save.times = {segment.t_end};  // one row at the end: no row at every step
    const FlowResult r = simulate_flow(objective_, theta_, segment);
    stats_.num_gradient_evals += r.stats.num_gradient_evals;
    stats_.num_loss_evals += r.stats.num_loss_evals;
    stats_.num_steps += r.stats.num_steps;
    stats_.num_rejected_steps += r.stats.num_rejected_steps;
    if (r.status != Status::reached_end_time) {
      failure_ = "the flow stopped at t = " + std::to_string(t_ + r.t_final) + ": " + r.message;
      return c;
    }
    theta_ = r.theta;
    loss_ = r.loss_final;
    t_ = row.t;
  }
  c.flow_loss = loss_;
  c.distance = (theta - theta_).norm();
  c.relative_distance = c.distance / std::max({theta_.norm(), theta0_norm_, std::numeric_limits<double>::min()});
  c.eta_sharpness = eta * row.observed.sharpness;
  if (!left_ && c.relative_distance > leave_tol_) {
    left_ = LeaveFlow{row.iter, row.t, c.relative_distance, row.observed.sharpness, c.eta_sharpness};
  }
  return c;
}

}  // namespace gradflow

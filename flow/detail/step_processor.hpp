// What every back end does after an accepted step from (run.t, run.theta) to t_new: locate a
// tolerance stop inside the step, record the scheduled rows up to the end point, make the end point
// the current one, check the bound and ask the observer. Back ends supply state_at(t, out), the
// solution at t in [run.t, t_new] from their own interpolant (dense output, or a shorter step).
#pragma once

#include <gradflow/flow/detail/run_state.hpp>

#include <cassert>
#include <cstdio>
#include <optional>
#include <string>

namespace gradflow::detail {

struct StepScratch {
  explicit StepScratch(Eigen::Index p) : x(p), g(p), x_end(p), g_end(p) {}
  Vector x, g;          // probe points (crossing search, rows)
  Vector x_end, g_end;  // the located crossing, when it ends the step early
};

inline std::string tolerance_message(const FlowOptions& options, double t, double loss, double grad_norm) {
  char buffer[256];
  std::string what;
  if (options.loss_tol > 0.0) {
    std::snprintf(buffer, sizeof buffer, "loss %.6e <= loss_tol %.6e", loss, options.loss_tol);
    what += buffer;
  }
  if (options.grad_tol > 0.0) {
    std::snprintf(buffer, sizeof buffer, "||grad L|| %.6e <= grad_tol %.6e", grad_norm, options.grad_tol);
    what += (what.empty() ? "" : " and ") + std::string(buffer);
  }
  std::snprintf(buffer, sizeof buffer, " at t = %.10g", t);
  return what + buffer;
}

// Whether finish_step needs the loss and gradient at the end of every step: for a row at every step,
// the tolerance stop, the observer or the radius check. When it does not, a back end may leave the
// end points unevaluated (finish_step then evaluates one only where a row falls on it).
inline bool needs_every_end_point(const TrajectoryMonitor& monitor) {
  return monitor.every_step() || monitor.tolerance_enabled() || monitor.has_observer() || monitor.checks_radius();
}

// crossing_at_end: the back end has already ended the step at a tolerance crossing (CVODE's root
// finding), so the run stops here; otherwise a crossing inside the step is searched for. x_new and g_new must stay
// valid for state_at until the end point becomes current; they are left with unspecified contents. Returns true when
// the run must stop (run.status set). loss_new empty: the back end has not evaluated the end point (g_new is then
// scratch), which is allowed only when !needs_every_end_point(run.monitor). The end point becomes current without its
// loss and gradient: run.loss and run.grad are left as they were, for the back end to evaluate once
// the run has ended.
template <class StateAt>
bool finish_step(RunState& run, double t_new, Vector& x_new, std::optional<double> loss_new, Vector& g_new,
                 StateAt&& state_at, StepScratch& scratch, bool crossing_at_end = false) {
  TrajectoryMonitor& monitor = run.monitor;
  assert(loss_new || !needs_every_end_point(monitor));
  double t_end_point = t_new;
  Vector* x_end = &x_new;
  Vector* g_end = &g_new;
  std::optional<double> loss_end = loss_new;
  bool tolerance_stop = false;
  if (crossing_at_end) {
    tolerance_stop = true;
  } else if (loss_new && monitor.tolerance_enabled() && monitor.tolerance_met(*loss_new, g_new.norm())) {
    tolerance_stop = true;
    {
      const double t_old = run.t;
      const auto event = [&](double tau) {
        state_at(t_old + tau, scratch.x);
        const double loss = run.field.loss_and_gradient(scratch.x, scratch.g);
        return monitor.event_value(loss, scratch.g.norm());
      };
      const double e_old = monitor.event_value(run.loss, run.grad.norm());
      const double e_new = monitor.event_value(*loss_new, g_new.norm());
      const double tau = locate_crossing(event, t_new - t_old, e_old, e_new, std::abs(t_old));
      if (t_old + tau < t_new) {
        t_end_point = t_old + tau;
        x_end = &scratch.x_end;
        g_end = &scratch.g_end;
        state_at(t_end_point, *x_end);
        loss_end = run.field.loss_and_gradient(*x_end, *g_end);
      }
    }
  }
  while (!monitor.every_step() && monitor.next_output_time() <= t_end_point) {
    const double t_out = monitor.next_output_time();
    if (t_out == t_end_point) {
      if (!loss_end) loss_end = run.field.loss_and_gradient(*x_end, *g_end);
      monitor.record(monitor.make_row(t_out, *x_end, *loss_end, g_end->norm()));
    } else {
      state_at(t_out, scratch.x);
      const double loss = run.field.loss_and_gradient(scratch.x, scratch.g);
      monitor.record(monitor.make_row(t_out, scratch.x, loss, scratch.g.norm()));
    }
    monitor.pop_output_time();
  }
  run.path_length += (*x_end - run.theta).norm();
  run.theta.swap(*x_end);
  run.t = t_end_point;
  if (!loss_new) return false;  // nothing else looks at an end point the back end has not evaluated
  run.grad.swap(*g_end);
  run.loss = *loss_end;
  monitor.check_bound(run.t, run.loss);
  const FlowRow row = monitor.make_row(run.t, run.theta, run.loss, run.grad.norm());
  monitor.check_radius(run.t, row.dist_from_init);
  if (monitor.every_step()) monitor.record(row);
  if (tolerance_stop) {
    run.finish(Status::tolerance_reached, tolerance_message(run.options, run.t, run.loss, row.grad_norm));
    return true;
  }
  if (monitor.observe(row)) {
    run.finish(Status::stopped_by_observer, "the observer asked to stop");
    return true;
  }
  return false;
}

}  // namespace gradflow::detail

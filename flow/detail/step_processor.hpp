// What every back end does after an accepted step from (run.t, run.theta) to t_new: locate the events
// (the tolerance stop among them) inside the step, record the piece of dense output, record the
// scheduled rows up to the end point, make the end point the current one, check the bound, ask the
// observer, and check the wall-time budget and the caller's cancellation check. Back ends supply
// state_at(t, out), the solution at t in [run.t, t_new] from their own interpolant (dense output, or a
// shorter step).
#pragma once

#include <gradflow/core/cancellation.hpp>
#include <gradflow/flow/detail/run_state.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace gradflow::detail {

struct StepScratch {
  explicit StepScratch(Eigen::Index p) : x(p), g(p), x_end(p), g_end(p), x_hit(p), g_hit(p) {
    for (Vector& sample : samples) sample.resize(p);
  }
  Vector x, g;          // probe points (crossing search, rows)
  Vector x_end, g_end;  // the located terminal crossing, when it ends the step early
  Vector x_hit, g_hit;  // the state past a crossing, kept by the search
  Vector samples[4];    // the interior samples of a quintic piece
};

inline std::string tolerance_message(const FlowOptions& options, double t, double loss, double grad_norm) {
  char buffer[256];
  std::string what;
  if (options.stop.loss_tol > 0.0) {
    std::snprintf(buffer, sizeof buffer, "loss %.6e <= loss_tol %.6e", loss, options.stop.loss_tol);
    what += buffer;
  }
  if (options.stop.grad_tol > 0.0) {
    std::snprintf(buffer, sizeof buffer, "||grad L|| %.6e <= grad_tol %.6e", grad_norm, options.stop.grad_tol);
    what += (what.empty() ? "" : " and ") + std::string(buffer);
  }
  std::snprintf(buffer, sizeof buffer, " at t = %.10g", t);
  return what + buffer;
}

// Whether finish_step needs the loss and gradient at the end of every step: for a row at every step,
// events (the tolerance stop among them), the observer, the radius check or the dense output. When it
// does not, a back end may leave the end points unevaluated (finish_step then evaluates one only where
// a row falls on it).
inline bool needs_every_end_point(const RunState& run) {
  const TrajectoryMonitor& monitor = run.monitor;
  return monitor.every_step() || monitor.has_events() || monitor.has_observer() || monitor.checks_radius() ||
         run.dense != nullptr;
}

// The sign of a crossing of g from a to b that the event's direction admits: +1 a fall (a > 0 >= b),
// -1 a rise (a < 0 <= b), 0 none. A crossing starts strictly on one side, so a root at the end of
// one step is not seen again at the start of the next.
inline int crossing_sign(double a, double b, int direction) {
  if (a > 0.0 && b <= 0.0 && direction <= 0) return +1;
  if (a < 0.0 && b >= 0.0 && direction >= 0) return -1;
  return 0;
}

// The wall-time budget (Stop::max_wall_seconds), checked after every accepted step: true, with the
// run finished as time_limit, once it has run out.
inline bool out_of_time(RunState& run) {
  if (!run.monitor.out_of_time()) return false;
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "the wall-time budget stop.max_wall_seconds = %g s ran out at t = %.10g",
                run.options.stop.max_wall_seconds, run.t);
  run.finish(Status::time_limit, buffer);
  return true;
}

// The caller's cancellation check (core/cancellation.hpp), polled after every accepted step: true,
// with the run finished as interrupted at the step's end point, once it asks to stop.
inline bool interrupted(RunState& run) {
  if (!cancellation_requested()) return false;
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "interrupted at t = %.10g", run.t);
  run.finish(Status::interrupted, std::string(buffer) + " (the cancellation check asked to stop)");
  return true;
}

struct LocatedHit {
  double t;
  std::size_t event;
  Vector theta;
  Vector grad;
  double loss;
};

// Appends the Hermite piece for [t0, t1], halved (up to depth 10) until its midpoint agrees with the
// back end's own interpolant within atol + rtol |theta| (RMS); each halving evaluates -grad L at the
// midpoint.
template <class StateAt>
void add_checked_hermite(RunState& run, StateAt& state_at, double t0, const Vector& x0, const Vector& v0, double t1,
                         const Vector& x1, const Vector& v1, int depth) {
  const double tm = 0.5 * (t0 + t1);
  if (depth < tolerances::kDenseHalvings && tm > t0 && tm < t1) {
    Vector xm(x0.size());
    state_at(tm, xm);
    const Vector guess = DenseOutput::hermite(t0, x0, v0, t1, x1, v1, tm);
    const double scaled =
        std::sqrt(((guess - xm).array() / (run.options.atol + run.options.rtol * xm.array().abs())).square().mean());
    if (!(scaled <= 1.0)) {
      Vector gm(x0.size());
      const double loss = run.field.loss_and_gradient(xm, gm);
      if (finite_loss_and_gradient(loss, gm)) {
        const Vector vm = -gm;
        add_checked_hermite(run, state_at, t0, x0, v0, tm, xm, vm, depth + 1);
        add_checked_hermite(run, state_at, tm, xm, vm, t1, x1, v1, depth + 1);
        return;
      }
    }
  }
  run.dense->add_hermite(t0, t1, x0, v0, x1, v1);
}

// x_new and g_new must stay valid for state_at until the end point becomes current; they are left with
// unspecified contents. Returns true when the run must stop (run.status set). loss_new empty: the back
// end has not evaluated the end point (g_new is then scratch), which is allowed only when
// !needs_every_end_point(run). The end point then becomes current without its loss and gradient: run.loss
// and run.grad are left as they were, for the back end to evaluate once the run has ended.
template <class StateAt>
bool finish_step(RunState& run, double t_new, Vector& x_new, std::optional<double> loss_new, Vector& g_new,
                 StateAt&& state_at, StepScratch& scratch) {
  TrajectoryMonitor& monitor = run.monitor;
  assert(loss_new || !needs_every_end_point(run));
  const double t_old = run.t;
  const double h = t_new - t_old;
  double t_end_point = t_new;
  Vector* x_end = &x_new;
  Vector* g_end = &g_new;
  std::optional<double> loss_end = loss_new;
  std::optional<std::size_t> stop_event;

  if (loss_new && monitor.has_events()) {
    const Row row_new = monitor.make_row(t_new, x_new, *loss_new, g_new.norm());
    std::vector<double>& e_old = monitor.event_values();
    std::vector<double>& e_new = monitor.event_values_new();
    const std::size_t count = monitor.events().size();
    for (std::size_t i = 0; i < count; ++i) e_new[i] = monitor.event_g(i, t_new, x_new, row_new);
    std::vector<LocatedHit> hits;
    for (std::size_t i = 0; i < count; ++i) {
      const TrajectoryMonitor::TrackedEvent& event = monitor.events()[i];
      const int sign = crossing_sign(e_old[i], e_new[i], event.direction);
      if (sign == 0) continue;
      // Locate on the interpolant; the state past the crossing is kept as the search goes.
      LocatedHit hit{t_new, i, x_new, g_new, *loss_new};
      double loss_probe = 0.0;
      const auto f = [&](double tau) {
        state_at(t_old + tau, scratch.x);
        loss_probe = run.field.loss_and_gradient(scratch.x, scratch.g);
        const Row row = monitor.make_row(t_old + tau, scratch.x, loss_probe, scratch.g.norm());
        return sign * monitor.event_g(i, t_old + tau, scratch.x, row);
      };
      const auto on_past = [&](double) {
        hit.theta = scratch.x;
        hit.grad = scratch.g;
        hit.loss = loss_probe;
      };
      const double tolerance = tolerances::kEventTimeRelative * (1.0 + std::abs(t_new));
      const double tau = locate_crossing(f, h, sign * e_old[i], sign * e_new[i], tolerance, on_past);
      hit.t = std::min(t_old + tau, t_new);
      hits.push_back(std::move(hit));
    }
    // The earliest terminal crossing ends the step there; crossings after it did not happen.
    double t_stop = t_new;
    for (const LocatedHit& hit : hits) {
      if (monitor.events()[hit.event].terminal && (!stop_event || hit.t < t_stop)) {
        stop_event = hit.event;
        t_stop = hit.t;
      }
    }
    std::sort(hits.begin(), hits.end(), [](const LocatedHit& a, const LocatedHit& b) { return a.t < b.t; });
    for (LocatedHit& hit : hits) {
      if (stop_event && hit.t > t_stop) continue;
      if (stop_event && hit.event == *stop_event && hit.t == t_stop && t_stop < t_new) {
        t_end_point = t_stop;
        scratch.x_end = hit.theta;
        scratch.g_end = hit.grad;
        x_end = &scratch.x_end;
        g_end = &scratch.g_end;
        loss_end = hit.loss;
      }
      const Row row = monitor.make_row(hit.t, hit.theta, hit.loss, hit.grad.norm());
      const auto& event = monitor.events()[hit.event];
      monitor.add_hit(EventHit{event.name, 0, hit.t, std::move(hit.theta), row, event.index});
    }
    if (!stop_event) e_old.swap(e_new);
  }

  if (run.dense != nullptr) {
    // The piece of the interpolant for [t_old, t_end_point], before the end point becomes current.
    switch (run.interpolant) {
      case Interpolant::hermite:
        run.dense->add_hermite(t_old, t_end_point, run.theta, -run.grad, *x_end, -*g_end);
        break;
      case Interpolant::hermite_checked: {
        const Vector v_old = -run.grad, v_end = -*g_end;
        add_checked_hermite(run, state_at, t_old, run.theta, v_old, t_end_point, *x_end, v_end, 0);
        break;
      }
      case Interpolant::linear:
        run.dense->add_linear(t_old, t_end_point, run.theta, -run.grad);
        break;
      case Interpolant::quintic: {
        const Vector* samples[6] = {&run.theta,          &scratch.samples[0], &scratch.samples[1],
                                    &scratch.samples[2], &scratch.samples[3], &x_new};
        for (int k = 1; k <= 4; ++k) state_at(t_old + h * (k / 5.0), scratch.samples[k - 1]);
        run.dense->add_quintic(t_old, t_end_point, h, samples);
        break;
      }
    }
  }

  while (!monitor.every_step() && monitor.next_output_time() <= t_end_point) {
    const double t_out = monitor.next_output_time();
    if (t_out == t_end_point) {
      if (!loss_end) loss_end = run.field.loss_and_gradient(*x_end, *g_end);
      monitor.record(monitor.make_row(t_out, *x_end, *loss_end, g_end->norm()), *x_end);
    } else {
      state_at(t_out, scratch.x);
      const double loss = run.field.loss_and_gradient(scratch.x, scratch.g);
      monitor.record(monitor.make_row(t_out, scratch.x, loss, scratch.g.norm()), scratch.x);
    }
    monitor.pop_output_time();
  }
  run.path_length += (*x_end - run.theta).norm();
  run.theta.swap(*x_end);
  run.t = t_end_point;
  if (!loss_new) return out_of_time(run) || interrupted(run);  // nothing else looks at an unevaluated end point
  run.grad.swap(*g_end);
  run.loss = *loss_end;
  monitor.check_bound(run.t, run.loss);
  const Row row = monitor.make_row(run.t, run.theta, run.loss, run.grad.norm());
  monitor.check_radius(run.t, row.dist_from_init);
  if (monitor.every_step() && monitor.step_due()) monitor.record(row, run.theta);
  if (stop_event) {
    const TrajectoryMonitor::TrackedEvent& event = monitor.events()[*stop_event];
    if (event.user == nullptr) {
      run.finish(Status::tolerance_reached, tolerance_message(run.options, run.t, run.loss, row.grad_norm));
    } else {
      char buffer[96];
      std::snprintf(buffer, sizeof buffer, " at t = %.10g", run.t);
      run.finish(Status::event_stop, "terminal event '" + event.name + "'" + buffer);
    }
    return true;
  }
  if (monitor.observe(row, run.theta)) {
    run.finish(Status::stopped_by_observer, "the observer asked to stop");
    return true;
  }
  return out_of_time(run) || interrupted(run);
}

}  // namespace gradflow::detail

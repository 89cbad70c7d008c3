// Shared by the back ends: which rows to record and when (and where they go: the result, the states,
// the row sink), the rate bound and its verdict, the events (the tolerance stop among them) and the
// observer. Back ends only step and interpolate.
#pragma once

#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/recorder.hpp>
#include <gradflow/flow/result.hpp>
#include <gradflow/theory/observables.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace gradflow::detail {

class TrajectoryMonitor {
 public:
  TrajectoryMonitor(const FlowOptions& options, const Vector& theta0, double loss0, std::optional<double> min_value,
                    std::optional<double> mu, const Observer* observer,
                    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

  // Output schedule. every_step(): a row every save.every_steps accepted steps (step_due() says which);
  // otherwise rows at the scheduled times (times, or multiples of every_t), next_output_time() being
  // +inf when none remain.
  bool every_step() const { return every_step_; }
  // Counts an accepted step and says whether its end point is a row (every save.every_steps steps).
  bool step_due() { return ++accepted_steps_ % options_.save.every_steps == 0; }
  double next_output_time() const;
  void pop_output_time() { ++next_output_; }

  Row make_row(double t, const ConstVectorView& theta, double loss, double grad_norm) const;
  // Records a row with its state (unless the last recorded row has the same t): checks it against the
  // bound and the radius, then the recorder (flow/recorder.hpp) adds the observables, hands it to the
  // row sink and keeps it.
  void record(const Row& row, const ConstVectorView& theta);
  // Checks the bound (and the radius, when one is set) at a point that is not recorded.
  void check_bound(double t, double loss);
  void check_radius(double t, double dist_from_init);
  bool checks_radius() const { return options_.radius.has_value(); }
  double bound(double t) const;

  // The tolerance stop: loss <= loss_tol and ||grad|| <= grad_tol, each only when its tolerance is
  // positive. event_value is continuous in (loss, grad_norm) and <= 0 exactly when the stop is met
  // (a maximum of log ratios, so that a root finder sees a near-linear function on an exponential decay).
  bool tolerance_enabled() const { return options_.stop.tolerance_enabled(); }
  bool tolerance_met(double loss, double grad_norm) const { return event_value(loss, grad_norm) <= 0.0; }
  double event_value(double loss, double grad_norm) const;
  // Whether the wall-time budget (stop.max_wall_seconds) is used up.
  bool out_of_time() const;

  // The events: the tolerance stop (first, when enabled; falling, terminal) and options.events.
  struct TrackedEvent {
    std::string name;
    int direction = 0;
    bool terminal = true;
    const Event* user = nullptr;  // nullptr: the tolerance stop
    int index = -1;               // the index in options.events; -1: the tolerance stop
  };
  const std::vector<TrackedEvent>& events() const { return events_; }
  bool has_events() const { return !events_.empty(); }
  double event_g(std::size_t i, double t, const ConstVectorView& theta, const Row& row) const;
  // The event functions' values at the current point, and scratch for the end of a step.
  std::vector<double>& event_values() { return event_values_; }
  std::vector<double>& event_values_new() { return event_values_new_; }
  void set_event_values(double t, const ConstVectorView& theta, const Row& row);
  void add_hit(EventHit hit) { hits_.push_back(std::move(hit)); }

  // Calls the observer, if any, with the row and the state; true = stop.
  bool observe(const Row& row, const ConstVectorView& theta) const;
  bool has_observer() const { return observer_ != nullptr && *observer_; }

  std::vector<Row>& rows() { return recorder_->rows(); }
  Matrix states() const { return recorder_->states(); }
  std::vector<EventHit>& hits() { return hits_; }
  std::optional<bool> bound_holds() const;
  std::optional<double> first_violation() const { return first_violation_; }
  std::optional<bool> radius_holds() const;
  std::optional<double> first_radius_violation() const { return first_radius_violation_; }
  std::optional<double> mu() const { return mu_; }
  // The observables at the recorded rows (options.observe): set by simulate_flow before the first row;
  // the first failure of the identity ||grad L||^2 >= 2 ntk_min L, or "".
  void set_path_observer(PathObserver* observer);
  const std::string& identity_violation() const { return recorder_->identity_violation(); }
  ObserveCounts observe_counts() const { return recorder_->observe_counts(); }

 private:
  const FlowOptions& options_;
  RowMaker maker_;
  double loss0_;
  std::optional<double> min_value_;
  std::optional<double> mu_;
  const Observer* observer_;
  std::chrono::steady_clock::time_point started_;
  bool every_step_;
  long accepted_steps_ = 0;
  std::size_t next_output_ = 0;
  std::size_t num_outputs_ = 0;
  double last_recorded_t_ = 0.0;
  std::optional<RowRecorder> recorder_;
  std::vector<TrackedEvent> events_;
  std::vector<double> event_values_, event_values_new_;
  std::vector<EventHit> hits_;
  std::optional<double> first_violation_;
  std::optional<double> first_radius_violation_;
};

// Locates a crossing inside a step: f(0) > 0 >= f(h). Illinois (modified regula falsi) on tau in
// [0, h] down to a bracket of width tolerance; returns the bracket's end past the crossing (f <= 0
// there). on_past(tau) is called after every evaluation that becomes that end, so that the caller can
// keep the state there.
template <class F, class OnPast>
double locate_crossing(F&& f, double h, double f0, double fh, double tolerance, OnPast&& on_past) {
  double lo = 0.0, hi = h, f_lo = f0, f_hi = fh;
  int side = 0;
  for (int iteration = 0; iteration < tolerances::kCrossingMaxIterations && hi - lo > tolerance; ++iteration) {
    double tau = hi - f_hi * (hi - lo) / (f_hi - f_lo);
    // Guard against a stalled secant: fall back to bisection near the ends.
    const double margin = 0.01 * (hi - lo);
    if (!(tau > lo + margin && tau < hi - margin)) tau = 0.5 * (lo + hi);
    const double value = f(tau);
    if (value <= 0.0) {
      hi = tau;
      f_hi = value;
      on_past(tau);
      if (side == -1) f_lo *= 0.5;
      side = -1;
    } else {
      lo = tau;
      f_lo = value;
      if (side == +1) f_hi *= 0.5;
      side = +1;
    }
  }
  return hi;
}

}  // namespace gradflow::detail

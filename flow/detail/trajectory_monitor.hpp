// Shared by the back ends: which rows to record and when, the rate bound and its verdict, the
// tolerance stop and its event function, and the observer. Back ends only step and interpolate.
#pragma once

#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/result.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace gradflow::detail {

class TrajectoryMonitor {
 public:
  TrajectoryMonitor(const FlowOptions& options, const Vector& theta0, double loss0, double min_value,
                    std::optional<double> mu, const FlowObserver* observer);

  // Output schedule. every_step(): a row at every accepted step; otherwise rows at the scheduled
  // times (times, or multiples of save_every), next_output_time() being +inf when none remain.
  bool every_step() const { return every_step_; }
  double next_output_time() const;
  void pop_output_time() { ++next_output_; }

  FlowRow make_row(double t, const ConstVectorView& theta, double loss, double grad_norm) const;
  // Appends a row (unless the last row has the same t) and checks it against the bound.
  void record(const FlowRow& row);
  // Checks the bound (and the radius, when one is set) at a point that is not recorded.
  void check_bound(double t, double loss);
  void check_radius(double t, double dist_from_init);
  bool checks_radius() const { return options_.radius.has_value(); }
  double bound(double t) const;

  // The tolerance stop: loss <= loss_tol and ||grad|| <= grad_tol, each only when its tolerance is
  // positive. event_value is continuous in (loss, grad_norm) and <= 0 exactly when the stop is met
  // (a maximum of log ratios, so that a root finder sees a near-linear function on an exponential decay).
  bool tolerance_enabled() const { return options_.loss_tol > 0.0 || options_.grad_tol > 0.0; }
  bool tolerance_met(double loss, double grad_norm) const { return event_value(loss, grad_norm) <= 0.0; }
  double event_value(double loss, double grad_norm) const;

  // Calls the observer, if any, with the row; true = stop.
  bool observe(const FlowRow& row) const;
  bool has_observer() const { return observer_ != nullptr && *observer_; }

  std::vector<FlowRow>& rows() { return rows_; }
  std::optional<bool> bound_holds() const;
  std::optional<double> first_violation() const { return first_violation_; }
  std::optional<bool> radius_holds() const;
  std::optional<double> first_radius_violation() const { return first_radius_violation_; }
  std::optional<double> mu() const { return mu_; }

 private:
  const FlowOptions& options_;
  Vector theta0_;
  double loss0_;
  double min_value_;
  std::optional<double> mu_;
  const FlowObserver* observer_;
  bool every_step_;
  std::size_t next_output_ = 0;
  std::size_t num_outputs_ = 0;
  std::vector<FlowRow> rows_;
  std::optional<double> first_violation_;
  std::optional<double> first_radius_violation_;
};

// Locates the crossing of a tolerance stop inside a step: event(0) > 0 >= event(h). Illinois
// (modified regula falsi) on tau in [0, h]; returns a tau with event(tau) <= 0, within roundoff of
// the first crossing when the event is monotone on the step.
template <class Event>
double locate_crossing(Event&& event, double h, double e0, double eh, double t_scale) {
  double lo = 0.0, hi = h, f_lo = e0, f_hi = eh;
  int side = 0;
  const double tolerance = tolerances::kCrossingUlps * tolerances::kEps * (t_scale + h);
  for (int iteration = 0; iteration < tolerances::kCrossingMaxIterations && hi - lo > tolerance; ++iteration) {
    double tau = hi - f_hi * (hi - lo) / (f_hi - f_lo);
    // Guard against a stalled secant: fall back to bisection near the ends.
    const double margin = 0.01 * (hi - lo);
    if (!(tau > lo + margin && tau < hi - margin)) tau = 0.5 * (lo + hi);
    const double f = event(tau);
    if (f <= 0.0) {
      hi = tau;
      f_hi = f;
      if (side == -1) f_lo *= 0.5;
      side = -1;
    } else {
      lo = tau;
      f_lo = f;
      if (side == +1) f_hi *= 0.5;
      side = +1;
    }
  }
  return hi;
}

}  // namespace gradflow::detail

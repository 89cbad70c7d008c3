#include <gradflow/flow/detail/trajectory_monitor.hpp>

#include <gradflow/core/tolerances.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gradflow::detail {
namespace {
using tolerances::kEps;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TrajectoryMonitor::TrajectoryMonitor(const FlowOptions& options, const Vector& theta0, double loss0,
                                     std::optional<double> min_value, std::optional<double> mu,
                                     const Observer* observer, std::chrono::steady_clock::time_point started)
    : options_(options),
      maker_(theta0, min_value),
      loss0_(loss0),
      min_value_(min_value),
      mu_(mu),
      observer_(observer),
      started_(started),
      every_step_(options.save.times.empty() && options.save.every_t == 0.0) {
  recorder_.emplace(options_.save, RunKind::flow, theta0.size(), nullptr);
  if (!options.save.times.empty()) {
    num_outputs_ = options.save.times.size();
  } else if (options.save.every_t > 0.0) {
    // k * every_t <= t_end, allowing for the rounding of t_end / every_t.
    num_outputs_ = static_cast<std::size_t>(
        std::floor(options.t_end / options.save.every_t * (1.0 + tolerances::kOutputGridUlps * kEps)));
  }
  if (tolerance_enabled()) events_.push_back(TrackedEvent{"tolerance", -1, true, nullptr, -1});
  for (std::size_t i = 0; i < options.events.size(); ++i) {
    const Event& event = options.events[i];
    events_.push_back(TrackedEvent{event.name, event.direction, event.terminal, &event, static_cast<int>(i)});
  }
  event_values_.assign(events_.size(), kNaN);
  event_values_new_.assign(events_.size(), kNaN);
}

void TrajectoryMonitor::set_path_observer(PathObserver* observer) {
  recorder_.emplace(options_.save, RunKind::flow, maker_.dimension(), observer);
}

double TrajectoryMonitor::next_output_time() const {
  if (next_output_ >= num_outputs_) return std::numeric_limits<double>::infinity();
  if (!options_.save.times.empty()) return options_.save.times[next_output_];
  return std::min(static_cast<double>(next_output_ + 1) * options_.save.every_t, options_.t_end);
}

double TrajectoryMonitor::bound(double t) const {
  if (!mu_ || !min_value_) return kNaN;
  return *min_value_ + (loss0_ - *min_value_) * std::exp(-2.0 * *mu_ * t);
}

Row TrajectoryMonitor::make_row(double t, const ConstVectorView& theta, double loss, double grad_norm) const {
  Row row = maker_.make(t, theta, loss, grad_norm);
  row.bound = bound(t);
  return row;
}

void TrajectoryMonitor::check_bound(double t, double loss) {
  if (!mu_ || !min_value_ || first_violation_) return;
  // The solver's tolerance and the round-off floor (core/tolerances.hpp).
  if (!tolerances::rate_bound_holds(loss - *min_value_, bound(t) - *min_value_,
                                    tolerances::kFlowBoundRelativeRtols * options_.rtol,
                                    tolerances::kFlowBoundRoundoffUlps, loss0_)) {
    first_violation_ = t;
  }
}

void TrajectoryMonitor::check_radius(double t, double dist_from_init) {
  if (!options_.radius || first_radius_violation_) return;
  // The solver's tolerance on the state: a multiple of rtol relative, plus atol.
  if (!tolerances::radius_holds(dist_from_init, *options_.radius, tolerances::kFlowRadiusRelativeRtols * options_.rtol,
                                options_.atol)) {
    first_radius_violation_ = t;
  }
}

std::optional<bool> TrajectoryMonitor::radius_holds() const {
  if (!options_.radius) return std::nullopt;
  return !first_radius_violation_.has_value();
}

void TrajectoryMonitor::record(const Row& row, const ConstVectorView& theta) {
  if (recorder_->recorded_any() && last_recorded_t_ == row.t) return;
  last_recorded_t_ = row.t;
  check_bound(row.t, row.loss);
  check_radius(row.t, row.dist_from_init);
  recorder_->record(row, theta);
}

double TrajectoryMonitor::event_value(double loss, double grad_norm) const {
  if (!std::isfinite(loss) || !std::isfinite(grad_norm)) return std::numeric_limits<double>::infinity();
  constexpr double kTiny = std::numeric_limits<double>::min();
  double value = -std::numeric_limits<double>::infinity();
  if (options_.stop.loss_tol > 0.0) {
    value = std::max(value, std::log(std::max(loss, kTiny) / options_.stop.loss_tol));
  }
  if (options_.stop.grad_tol > 0.0) {
    value = std::max(value, std::log(std::max(grad_norm, kTiny) / options_.stop.grad_tol));
  }
  return value;
}

bool TrajectoryMonitor::out_of_time() const {
  return options_.stop.max_wall_seconds > 0.0 &&
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() >=
             options_.stop.max_wall_seconds;
}

double TrajectoryMonitor::event_g(std::size_t i, double t, const ConstVectorView& theta, const Row& row) const {
  const TrackedEvent& event = events_[i];
  if (event.user == nullptr) return event_value(row.loss, row.grad_norm);
  return event.user->g(t, theta, row);
}

void TrajectoryMonitor::set_event_values(double t, const ConstVectorView& theta, const Row& row) {
  for (std::size_t i = 0; i < events_.size(); ++i) event_values_[i] = event_g(i, t, theta, row);
}

bool TrajectoryMonitor::observe(const Row& row, const ConstVectorView& theta) const {
  return has_observer() && (*observer_)(row, theta);
}

std::optional<bool> TrajectoryMonitor::bound_holds() const {
  if (!mu_ || !min_value_) return std::nullopt;
  return !first_violation_.has_value();
}

}  // namespace gradflow::detail

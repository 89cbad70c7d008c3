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
                                     const FlowObserver* observer)
    : options_(options),
      theta0_(theta0),
      loss0_(loss0),
      min_value_(min_value),
      mu_(mu),
      observer_(observer),
      every_step_(options.times.empty() && options.save_every == 0.0) {
  if (!options.times.empty()) {
    num_outputs_ = options.times.size();
  } else if (options.save_every > 0.0) {
    // k * save_every <= t_end, allowing for the rounding of t_end / save_every.
    num_outputs_ = static_cast<std::size_t>(
        std::floor(options.t_end / options.save_every * (1.0 + tolerances::kOutputGridUlps * kEps)));
  }
  if (tolerance_enabled()) events_.push_back(Event{"tolerance", -1, true, nullptr});
  for (const FlowEvent& event : options.events)
    events_.push_back(Event{event.name, event.direction, event.terminal, &event});
  event_values_.assign(events_.size(), kNaN);
  event_values_new_.assign(events_.size(), kNaN);
}

double TrajectoryMonitor::next_output_time() const {
  if (next_output_ >= num_outputs_) return std::numeric_limits<double>::infinity();
  if (!options_.times.empty()) return options_.times[next_output_];
  return std::min(static_cast<double>(next_output_ + 1) * options_.save_every, options_.t_end);
}

double TrajectoryMonitor::bound(double t) const {
  if (!mu_ || !min_value_) return kNaN;
  return *min_value_ + (loss0_ - *min_value_) * std::exp(-2.0 * *mu_ * t);
}

FlowRow TrajectoryMonitor::make_row(double t, const ConstVectorView& theta, double loss, double grad_norm) const {
  FlowRow row;
  row.t = t;
  row.loss = loss;
  row.grad_norm = grad_norm;
  row.dist_from_init = (theta - theta0_).norm();
  const double excess = min_value_ ? loss - *min_value_ : kNaN;
  row.pl_ratio = excess > 0.0 ? grad_norm * grad_norm / (2.0 * excess) : kNaN;
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

void TrajectoryMonitor::record(const FlowRow& row_in, const ConstVectorView& theta) {
  if (recorded_any_ && last_recorded_t_ == row_in.t) return;
  recorded_any_ = true;
  last_recorded_t_ = row_in.t;
  FlowRow row = row_in;
  if (path_observer_ != nullptr) {
    row.observed = path_observer_->at(theta);
    if (identity_violation_.empty()) {
      const std::string failure = gradflow::identity_violation(row.observed, row.loss, row.grad_norm);
      if (!failure.empty()) {
        char where[64];
        std::snprintf(where, sizeof where, "at the row t = %.10g: ", row.t);
        identity_violation_ = where + failure;
      }
    }
  }
  check_bound(row.t, row.loss);
  check_radius(row.t, row.dist_from_init);
  if (options_.row_sink) options_.row_sink(row, theta);
  keep(row, theta);
}

void TrajectoryMonitor::keep(const FlowRow& row, const ConstVectorView& theta) {
  const std::size_t p = static_cast<std::size_t>(theta.size());
  if (options_.keep_rows || rows_.size() < 2) {
    rows_.push_back(row);
    if (options_.record_states) states_.insert(states_.end(), theta.data(), theta.data() + p);
    return;
  }
  // Only the first and the last: the new row replaces the last one.
  rows_.back() = row;
  if (options_.record_states) std::copy(theta.data(), theta.data() + p, states_.end() - static_cast<std::ptrdiff_t>(p));
}

Matrix TrajectoryMonitor::states() const {
  if (!options_.record_states) return Matrix();
  const Eigen::Index p = theta0_.size();
  return Eigen::Map<const Matrix>(states_.data(), p, static_cast<Eigen::Index>(rows_.size()));
}

double TrajectoryMonitor::event_value(double loss, double grad_norm) const {
  if (!std::isfinite(loss) || !std::isfinite(grad_norm)) return std::numeric_limits<double>::infinity();
  constexpr double kTiny = std::numeric_limits<double>::min();
  double value = -std::numeric_limits<double>::infinity();
  if (options_.loss_tol > 0.0) {
    value = std::max(value, std::log(std::max(loss, kTiny) / options_.loss_tol));
  }
  if (options_.grad_tol > 0.0) {
    value = std::max(value, std::log(std::max(grad_norm, kTiny) / options_.grad_tol));
  }
  return value;
}

double TrajectoryMonitor::event_g(std::size_t i, double t, const ConstVectorView& theta, const FlowRow& row) const {
  const Event& event = events_[i];
  if (event.user == nullptr) return event_value(row.loss, row.grad_norm);
  return event.user->g(t, theta, row);
}

void TrajectoryMonitor::set_event_values(double t, const ConstVectorView& theta, const FlowRow& row) {
  for (std::size_t i = 0; i < events_.size(); ++i) event_values_[i] = event_g(i, t, theta, row);
}

bool TrajectoryMonitor::observe(const FlowRow& row, const ConstVectorView& theta) const {
  return has_observer() && (*observer_)(row, theta);
}

std::optional<bool> TrajectoryMonitor::bound_holds() const {
  if (!mu_ || !min_value_) return std::nullopt;
  return !first_violation_.has_value();
}

}  // namespace gradflow::detail

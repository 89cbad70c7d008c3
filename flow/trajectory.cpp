#include <gradflow/flow/trajectory.hpp>

#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace gradflow {
namespace {

bool non_negative(double x) { return std::isfinite(x) && x >= 0.0; }

}  // namespace

long max_steps_default(RunKind kind) { return kind == RunKind::flow ? 1000000 : 100000; }

long max_steps(const Stop& stop, RunKind kind) { return stop.max_steps.value_or(max_steps_default(kind)); }

std::optional<OptionError> validate(const Stop& stop, RunKind /*kind*/) {
  if (!non_negative(stop.loss_tol))
    return OptionError{"stop.loss_tol", full_precision(stop.loss_tol), "must be a finite number >= 0"};
  if (!non_negative(stop.grad_tol))
    return OptionError{"stop.grad_tol", full_precision(stop.grad_tol), "must be a finite number >= 0"};
  if (stop.max_steps && *stop.max_steps < 1)
    return OptionError{"stop.max_steps", std::to_string(*stop.max_steps), "must be >= 1"};
  if (!non_negative(stop.max_wall_seconds)) {
    return OptionError{"stop.max_wall_seconds", full_precision(stop.max_wall_seconds),
                       "must be a finite number >= 0 (0 = no limit)"};
  }
  return std::nullopt;
}

std::optional<OptionError> validate(const SaveAt& save, RunKind kind, double t_end) {
  if (save.every_steps < 1)
    return OptionError{"save.every_steps", std::to_string(save.every_steps), "must be >= 1 (steps)"};
  if (kind == RunKind::descent) {
    // Descent records by iteration: the time-based settings belong to the flow.
    if (!save.times.empty())
      return OptionError{"save.times", std::to_string(save.times.size()) + " values",
                         "descent records by iteration (save.every_steps), not at times"};
    if (save.every_t != 0.0)
      return OptionError{"save.every_t", full_precision(save.every_t),
                         "descent records by iteration (save.every_steps), not by time"};
    if (save.dense) return OptionError{"save.dense", "true", "descent has no dense output (its iterates are the path)"};
    return std::nullopt;
  }
  if (!non_negative(save.every_t))
    return OptionError{"save.every_t", full_precision(save.every_t), "must be a finite number >= 0"};
  if (save.every_t > 0.0 && !save.times.empty())
    return OptionError{"save.every_t", full_precision(save.every_t), "cannot be combined with times (choose one)"};
  if (save.every_t > 0.0 && t_end / save.every_t > tolerances::kMaxRecordedRows) {
    return OptionError{
        "save.every_t", full_precision(save.every_t),
        "would record more than 1e7 rows up to t_end = " + full_precision(t_end) + "; choose a larger interval"};
  }
  if (static_cast<double>(save.times.size()) > tolerances::kMaxRecordedRows)
    return OptionError{"save.times", std::to_string(save.times.size()) + " values", "at most 1e7 times"};
  for (std::size_t i = 0; i < save.times.size(); ++i) {
    const double t = save.times[i];
    if (!std::isfinite(t) || t <= 0.0 || t > t_end) {
      return OptionError{"save.times", full_precision(t),
                         "every time must lie in (0, t_end] with t_end = " + full_precision(t_end)};
    }
    if (i > 0 && t <= save.times[i - 1]) {
      return OptionError{"save.times", full_precision(t),
                         "times must be strictly increasing (follows " + full_precision(save.times[i - 1]) + ")"};
    }
  }
  return std::nullopt;
}

std::optional<OptionError> validate(const std::vector<Event>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    const std::string which = "events[" + std::to_string(i) + "]";
    if (event.name.empty()) return OptionError{which + ".name", "\"\"", "every event needs a name"};
    if (!event.g) return OptionError{which + ".g", event.name, "the event function is empty"};
    if (event.direction < -1 || event.direction > 1)
      return OptionError{which + ".direction", std::to_string(event.direction), "must be -1, 0 or 1"};
  }
  return std::nullopt;
}

bool begin_run(TrajectoryResult& result, const char* function, const Objective& objective,
               const ConstVectorView& theta0, const std::optional<OptionError>& error, const Observables& observe) {
  if (theta0.size() != objective.dimension()) {
    throw std::invalid_argument(std::string(function) + "(): theta0 has " + std::to_string(theta0.size()) +
                                " entries, the problem has dimension " + std::to_string(objective.dimension()));
  }
  if (!theta0.allFinite()) throw std::invalid_argument(std::string(function) + "(): theta0 has a non-finite entry");
  result.problem = objective.name();
  result.theta = theta0;
  if (error) {
    result.status = Status::invalid_options;
    result.message = error->message();
    return false;
  }
  if (observe.any()) {
    const std::string obstacle = observe_obstacle(objective, observe);
    if (!obstacle.empty()) {
      result.status = Status::invalid_options;
      result.message = "observe = " + to_string(observe) + ": " + obstacle;
      return false;
    }
  }
  return true;
}

NamedValues TrajectoryResult::common_summary() const {
  return {{"status", std::string(to_string(status))},
          {"success", succeeded()},
          {"message", message},
          {"problem", problem},
          {"dim", static_cast<long long>(theta.size())},
          {"t_final", t_final},
          {"loss0", loss0},
          {"loss_final", loss_final},
          {"grad_norm_final", grad_norm_final},
          {"dist_from_init", dist_from_init},
          {"path_length", path_length},
          {"min_value", optional_value(min_value)},
          {"bound_holds", optional_value(bound_holds)},
          {"radius_holds", optional_value(radius_holds)},
          {"rows", static_cast<long long>(rows.size())}};
}

Observer observer_of(const RowObserver& observer) {
  if (!observer) return {};
  return [observer](const Row& row, ConstVectorView) { return observer(row); };
}

void report_identity_violation(TrajectoryResult& result, const std::string& violation) {
  if (violation.empty()) return;
  result.message =
      violation + "; the run itself ended with " + std::string(to_string(result.status)) + ": " + result.message;
  result.status = Status::identity_violated;
}

std::string report_events_and_work(const TrajectoryResult& r, const Observables& observe, RunKind kind) {
  std::ostringstream out;
  for (const EventHit& hit : r.event_hits) {
    out << "event           " << hit.name;
    if (kind == RunKind::descent) {
      out << " at iteration " << hit.iter;
    } else {
      out << " at t = " << format_number("%.10g", hit.t);
    }
    out << ", loss = " << format_number("%.6e", hit.row.loss) << "\n";
  }
  const Stats& s = r.stats;
  if (kind == RunKind::flow)
    out << "steps           " << s.num_steps << " accepted, " << s.num_rejected_steps << " rejected\n";
  out << "evaluations     " << s.num_gradient_evals << " gradient, " << s.num_loss_evals << " loss, "
      << s.num_hessian_vector_evals << " Hessian-vector";
  if (kind == RunKind::flow) out << ", " << s.num_jacobian_evals << " Jacobian";
  out << "\n";
  if (s.num_nonlinear_iters > 0 || s.num_linear_iters > 0)
    out << "iterations      " << s.num_nonlinear_iters << " nonlinear, " << s.num_linear_iters << " linear\n";
  if (observe.any()) {
    out << "observed        " << to_string(observe) << " at every recorded row: " << s.num_observe_hessian_vector_evals
        << " Hessian-vector, " << s.num_observe_gram_products << " J J^T v, " << s.num_observe_gram_matrices
        << " Gram matrices (not in the evaluations above)\n";
  }
  out << "wall time       " << format_number("%.6f", s.wall_seconds) << " s\n";
  return out.str();
}

}  // namespace gradflow

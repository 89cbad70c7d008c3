#include <gradflow/flow/options.hpp>

#include <gradflow/core/tolerances.hpp>

#include <gradflow/core/text.hpp>

#include <cmath>

namespace gradflow {
namespace {

constexpr NameTable<Solver, 9> kSolverNames{{{
    {Solver::dopri5, "dopri5"},
    {Solver::cash_karp54, "cash-karp54"},
    {Solver::fehlberg78, "fehlberg78"},
    {Solver::bulirsch_stoer, "bulirsch-stoer"},
    {Solver::euler, "euler"},
    {Solver::rk4, "rk4"},
    {Solver::cvode_bdf, "cvode-bdf"},
    {Solver::cvode_bdf_krylov, "cvode-bdf-krylov"},
    {Solver::cvode_adams, "cvode-adams"},
}}};

}  // namespace

std::string_view to_string(Solver solver) { return kSolverNames.name(solver); }

std::optional<Solver> solver_from_string(std::string_view name) { return kSolverNames.value(name); }

const std::vector<std::string>& solver_names() {
  static const std::vector<std::string> names = kSolverNames.names();
  return names;
}

bool is_fixed_step(Solver solver) { return solver == Solver::euler || solver == Solver::rk4; }

bool is_cvode(Solver solver) {
  return solver == Solver::cvode_bdf || solver == Solver::cvode_bdf_krylov || solver == Solver::cvode_adams;
}

std::string_view to_string(KrylovMethod method) { return method == KrylovMethod::pcg ? "pcg" : "gmres"; }

std::optional<KrylovMethod> krylov_from_string(std::string_view name) {
  if (name == "gmres") return KrylovMethod::gmres;
  if (name == "pcg") return KrylovMethod::pcg;
  return std::nullopt;
}

std::optional<OptionError> FlowOptions::validate() const {
  const auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  const auto non_negative = [](double x) { return std::isfinite(x) && x >= 0.0; };
  if (!positive(t_end)) return OptionError{"t_end", full_precision(t_end), "must be a finite number > 0"};
  if (!(positive(rtol) && rtol < 1.0)) return OptionError{"rtol", full_precision(rtol), "must be a number in (0, 1)"};
  if (!positive(atol)) return OptionError{"atol", full_precision(atol), "must be a finite number > 0"};
  if (!positive(dt)) return OptionError{"dt", full_precision(dt), "must be a finite number > 0"};
  if (!non_negative(save_every))
    return OptionError{"save_every", full_precision(save_every), "must be a finite number >= 0"};
  if (save_every > 0.0 && !times.empty()) {
    return OptionError{"save_every", full_precision(save_every), "cannot be combined with times (choose one)"};
  }
  if (save_every > 0.0 && t_end / save_every > tolerances::kMaxRecordedRows) {
    return OptionError{
        "save_every", full_precision(save_every),
        "would record more than 1e7 rows up to t_end = " + full_precision(t_end) + "; choose a larger interval"};
  }
  if (static_cast<double>(times.size()) > tolerances::kMaxRecordedRows) {
    return OptionError{"times", std::to_string(times.size()) + " values", "at most 1e7 times"};
  }
  for (std::size_t i = 0; i < times.size(); ++i) {
    const double t = times[i];
    if (!std::isfinite(t) || t <= 0.0 || t > t_end) {
      return OptionError{"times", full_precision(t),
                         "every time must lie in (0, t_end] with t_end = " + full_precision(t_end)};
    }
    if (i > 0 && t <= times[i - 1]) {
      return OptionError{"times", full_precision(t),
                         "times must be strictly increasing (follows " + full_precision(times[i - 1]) + ")"};
    }
  }
  if (!non_negative(loss_tol)) return OptionError{"loss_tol", full_precision(loss_tol), "must be a finite number >= 0"};
  if (!non_negative(grad_tol)) return OptionError{"grad_tol", full_precision(grad_tol), "must be a finite number >= 0"};
  if (max_steps < 1) return OptionError{"max_steps", std::to_string(max_steps), "must be >= 1"};
  if (mu && !positive(*mu)) return OptionError{"mu", full_precision(*mu), "must be a finite number > 0"};
  if (radius && !positive(*radius))
    return OptionError{"radius", full_precision(*radius), "must be a finite number > 0"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    const FlowEvent& event = events[i];
    const std::string which = "events[" + std::to_string(i) + "]";
    if (event.name.empty()) return OptionError{which + ".name", "\"\"", "every event needs a name"};
    if (!event.g) return OptionError{which + ".g", event.name, "the event function is empty"};
    if (event.direction < -1 || event.direction > 1) {
      return OptionError{which + ".direction", std::to_string(event.direction), "must be -1, 0 or 1"};
    }
  }
  return std::nullopt;
}

}  // namespace gradflow

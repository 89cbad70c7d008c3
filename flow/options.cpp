#include <gradflow/flow/options.hpp>

#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>

#include <cmath>

namespace gradflow {
namespace {

constexpr NameTable<Solver, 10> kSolverNames{{{
    {Solver::dopri5, "dopri5"},
    {Solver::cash_karp54, "cash-karp54"},
    {Solver::fehlberg78, "fehlberg78"},
    {Solver::bulirsch_stoer, "bulirsch-stoer"},
    {Solver::euler, "euler"},
    {Solver::rk4, "rk4"},
    {Solver::cvode_bdf, "cvode-bdf"},
    {Solver::cvode_bdf_krylov, "cvode-bdf-krylov"},
    {Solver::cvode_adams, "cvode-adams"},
    {Solver::automatic, "auto"},
}}};

}  // namespace

std::string_view to_string(Solver solver) { return kSolverNames.name(solver); }

std::optional<Solver> solver_from_string(std::string_view name) { return kSolverNames.value(name); }

const std::vector<std::string>& solver_names() { return kSolverNames.cached_names(); }

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
  if (!positive(t_end)) return OptionError{"t_end", full_precision(t_end), "must be a finite number > 0"};
  if (!(positive(rtol) && rtol < 1.0)) return OptionError{"rtol", full_precision(rtol), "must be a number in (0, 1)"};
  // Below about 100 machine epsilons no step can meet the tolerance (the error estimate is itself
  // round-off): the solvers would shrink the step to nothing and end on a NaN step size.
  if (rtol < tolerances::kMinRelativeTolerance)
    return OptionError{"rtol", full_precision(rtol),
                       "is below what double precision can meet (rtol >= " +
                           format_number("%.3g", tolerances::kMinRelativeTolerance) + ", 100 machine epsilons)"};
  if (!positive(atol)) return OptionError{"atol", full_precision(atol), "must be a finite number > 0"};
  // The error allowed per step is atol + rtol |theta_i|: with atol >= 1 a step of any length passes on a
  // state of order 1, and the solver runs on with the loss rising (atol 1e300: 0.49 -> 14786).
  if (atol >= 1.0)
    return OptionError{"atol", full_precision(atol),
                       "must be < 1 (an absolute error of 1 per step or more leaves the step size uncontrolled)"};
  if (!positive(dt)) return OptionError{"dt", full_precision(dt), "must be a finite number > 0"};
  if (!(max_step > 0.0)) return OptionError{"max_step", full_precision(max_step), "must be > 0 (infinity: no limit)"};
  if (first_step && !(positive(*first_step) && *first_step <= t_end))
    return OptionError{"first_step", full_precision(*first_step), "must be a finite number in (0, t_end]"};
  if (auto error = gradflow::validate(save, RunKind::flow, t_end)) return error;
  if (auto error = gradflow::validate(stop, RunKind::flow)) return error;
  if (mu && !positive(*mu)) return OptionError{"mu", full_precision(*mu), "must be a finite number > 0"};
  if (radius && !positive(*radius))
    return OptionError{"radius", full_precision(*radius), "must be a finite number > 0"};
  return gradflow::validate(events);
}

}  // namespace gradflow

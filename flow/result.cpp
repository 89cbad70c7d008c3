#include <gradflow/flow/result.hpp>

#include <gradflow/core/text.hpp>

#include <sstream>
#include <stdexcept>

namespace gradflow {

Vector FlowResult::at(double t) const {
  if (!options.save.dense) {
    throw std::logic_error("FlowResult::at(): the run kept no interpolant; set FlowOptions::save.dense");
  }
  if (!(t >= 0.0 && t <= t_final)) {
    throw std::out_of_range("FlowResult::at(): t = " + full_precision(t) + " is outside [0, t_final] = [0, " +
                            full_precision(t_final) + "]");
  }
  return dense.at(t);
}

NamedValues FlowResult::summary() const {
  NamedValues values = common_summary();
  const auto add = [&](std::string name, Value value) { values.push_back({std::move(name), std::move(value)}); };
  add("solver", std::string(to_string(options.solver)));
  add("t_end", options.t_end);
  add("rtol", options.rtol);
  add("atol", options.atol);
  if (is_fixed_step(options.solver)) add("dt", options.dt);
  if (options.solver == Solver::cvode_bdf_krylov) add("krylov", std::string(to_string(options.krylov)));
  add("mu", optional_value(mu));
  add("first_bound_violation_t", optional_value(first_bound_violation_t));
  add("radius", optional_value(options.radius));
  add("first_radius_violation_t", optional_value(first_radius_violation_t));
  add("stiffness_hint", stiffness_hint);
  add("flow_departure", flow_departure);
  return values;
}

std::string FlowResult::brief_report() const {
  std::ostringstream out;
  out << to_string(status) << ": " << to_string(options.solver) << " on " << problem
      << ", t = " << format_number("%.6g", t_final) << ", loss " << format_number("%.6e", loss0) << " -> "
      << format_number("%.6e", loss_final) << ", " << stats.num_steps << " steps, " << stats.num_gradient_evals
      << " gradient evals";
  return out.str();
}

std::string FlowResult::full_report() const {
  std::ostringstream out;
  out << "status          " << to_string(status) << (message.empty() ? "" : " (" + message + ")") << "\n";
  out << "problem         " << problem << ", p = " << theta.size() << "\n";
  out << "solver          " << to_string(options.solver);
  if (is_fixed_step(options.solver)) {
    out << ", dt = " << format_number("%g", options.dt) << "\n";
  } else {
    out << ", rtol = " << format_number("%g", options.rtol) << ", atol = " << format_number("%g", options.atol) << "\n";
  }
  out << "time            t_final = " << format_number("%.10g", t_final)
      << " of t_end = " << format_number("%.10g", options.t_end) << "\n";
  out << "loss            " << format_number("%.6e", loss0) << " -> " << format_number("%.6e", loss_final)
      << "  (||grad L|| = " << format_number("%.3e", grad_norm_final) << ")\n";
  out << "travel          ||theta - theta0|| = " << format_number("%.6g", dist_from_init)
      << ", path length >= " << format_number("%.6g", path_length) << "\n";
  if (!mu) {
    out << "rate bound      not checked: mu unknown (give it: --mu, mu= in Python, FlowOptions::mu)\n";
  } else if (!min_value) {
    out << "rate bound      not checked: L_min unknown (the problem declares none; min_value= in Python)\n";
  } else if (!bound_holds) {
    out << "rate bound      not checked: the run did not advance from theta0\n";
  } else {
    out << "rate bound      L(t) <= L_min + (L0 - L_min) exp(-2 mu t), mu = " << format_number("%.6g", *mu) << ": "
        << (*bound_holds ? "holds" : "VIOLATED");
    if (first_bound_violation_t) out << " (first at t = " << format_number("%.6g", *first_bound_violation_t) << ")";
    out << "\n";
  }
  if (options.radius && radius_holds) {
    out << "radius          ||theta - theta0|| <= " << format_number("%.6g", *options.radius) << ": "
        << (*radius_holds ? "holds" : "VIOLATED");
    if (first_radius_violation_t) out << " (first at t = " << format_number("%.6g", *first_radius_violation_t) << ")";
    out << "\n";
  }
  out << report_events_and_work(*this, options.observe, RunKind::flow);
  return out.str();
}

}  // namespace gradflow

#include <gradflow/discrete/result.hpp>

#include <gradflow/core/text.hpp>

#include <sstream>

namespace gradflow {

NamedValues DescentResult::summary() const {
  NamedValues values = common_summary();
  const auto add = [&](std::string name, Value value) { values.push_back({std::move(name), std::move(value)}); };
  add("step", rule);
  add("lr", options.lr);
  add("step_size", optional_value(step_size));
  add("gamma", optional_value(gamma));
  if (options.step == StepRule::armijo) {
    add("armijo_b", options.armijo_b);
    add("armijo_c", options.armijo_c);
  }
  add("iterations", static_cast<long long>(iterations));
  add("mu", optional_value(facts.mu));
  add("beta", optional_value(facts.beta));
  add("guarantee_is_estimate", facts.beta_estimated);
  add("q", optional_value(guarantee.q));
  add("radius", optional_value(guarantee.radius));
  add("guarantee", guarantee.note);
  add("first_bound_violation_iter", optional_value(first_bound_violation_iter));
  add("first_radius_violation_iter", optional_value(first_radius_violation_iter));
  return values;
}

std::string DescentResult::brief_report() const {
  std::ostringstream out;
  out << to_string(status) << ": " << rule << " on " << problem << ", " << iterations << " iterations, loss "
      << format_number("%.6e", loss0) << " -> " << format_number("%.6e", loss_final) << ", " << stats.num_gradient_evals
      << " gradient evals, " << stats.num_loss_evals << " loss evals";
  return out.str();
}

std::string DescentResult::full_report() const {
  std::ostringstream out;
  out << "status          " << to_string(status) << (message.empty() ? "" : " (" + message + ")") << "\n";
  out << "problem         " << problem << ", p = " << theta.size() << "\n";
  out << "step rule       " << rule;
  if (step_size) out << ", eta = " << format_number("%.6g", *step_size);
  if (rule == to_string(StepRule::armijo)) {
    out << ", eta_bar = " << format_number("%g", options.lr) << ", b = " << format_number("%g", options.armijo_b)
        << ", c = " << format_number("%g", options.armijo_c);
  }
  if (gamma) out << ", gamma = " << format_number("%.6g", *gamma);
  out << "\n";
  out << "iterations      " << iterations << ", t = sum of steps = " << format_number("%.10g", t_final) << "\n";
  out << "loss            " << format_number("%.6e", loss0) << " -> " << format_number("%.6e", loss_final)
      << "  (||grad L|| = " << format_number("%.3e", grad_norm_final) << ")\n";
  out << "travel          ||theta - theta0|| = " << format_number("%.6g", dist_from_init) << ", path length "
      << format_number("%.6g", path_length) << "\n";
  out << "constants       mu = " << (facts.mu ? format_number("%.6g", *facts.mu) : std::string("unknown"))
      << ", beta = "
      << (facts.beta ? format_number("%.6g", *facts.beta) + (facts.beta_estimated ? " (estimated)" : "")
                     : std::string("unknown"))
      << "\n";
  if (guarantee.q && bound_holds) {
    out << "rate bound      L_k - L_min <= q^k (L0 - L_min), q = " << format_number("%.10g", *guarantee.q) << ": "
        << (*bound_holds ? "holds" : "VIOLATED");
    if (first_bound_violation_iter) out << " (first at iteration " << *first_bound_violation_iter << ")";
    out << (facts.beta_estimated ? "  [estimate]" : "") << "\n";
  } else if (guarantee.q) {
    out << "rate bound      not checked: the run made no iteration\n";
  } else {
    out << "rate bound      none: " << guarantee.note << "\n";
  }
  if (guarantee.radius && radius_holds) {
    out << "radius          path <= " << format_number("%.6g", *guarantee.radius) << ": "
        << (*radius_holds ? "holds" : "VIOLATED");
    if (first_radius_violation_iter) out << " (first at iteration " << *first_radius_violation_iter << ")";
    out << (facts.beta_estimated ? "  [estimate]" : "") << "\n";
  }
  out << report_events_and_work(*this, options.observe, RunKind::descent);
  return out.str();
}

}  // namespace gradflow

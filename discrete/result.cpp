#include <gradflow/discrete/result.hpp>

#include <gradflow/core/text.hpp>

#include <sstream>

namespace gradflow {

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
  for (const DescentEventHit& hit : event_hits) {
    out << "event           " << hit.name << " at iteration " << hit.iter
        << ", loss = " << format_number("%.6e", hit.row.loss) << "\n";
  }
  out << "evaluations     " << stats.num_gradient_evals << " gradient, " << stats.num_loss_evals << " loss, "
      << stats.num_hessian_vector_evals << " Hessian-vector\n";
  if (options.observe.any()) {
    out << "observed        " << to_string(options.observe)
        << " at every recorded row: " << stats.num_observe_hessian_vector_evals << " Hessian-vector, "
        << stats.num_observe_gram_products << " J J^T v, " << stats.num_observe_gram_matrices
        << " Gram matrices (not in the evaluations above)\n";
  }
  out << "wall time       " << format_number("%.6f", stats.wall_seconds) << " s\n";
  return out.str();
}

}  // namespace gradflow

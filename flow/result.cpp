#include <gradflow/flow/result.hpp>

#include <gradflow/core/text.hpp>

#include <sstream>
#include <stdexcept>

namespace gradflow {

Vector FlowResult::at(double t) const {
  if (!options.dense_output) {
    throw std::logic_error("FlowResult::at(): the run kept no interpolant; set FlowOptions::dense_output");
  }
  if (!(t >= 0.0 && t <= t_final)) {
    throw std::out_of_range("FlowResult::at(): t = " + full_precision(t) + " is outside [0, t_final] = [0, " +
                            full_precision(t_final) + "]");
  }
  return dense.at(t);
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
    out << "rate bound      not checked: mu unknown (give --mu)\n";
  } else if (!min_value) {
    out << "rate bound      not checked: L_min unknown (the problem declares no KnownFacts::min_value)\n";
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
  for (const EventHit& hit : event_hits) {
    out << "event           " << hit.name << " at t = " << format_number("%.10g", hit.t)
        << ", loss = " << format_number("%.6e", hit.row.loss) << "\n";
  }
  out << "steps           " << stats.num_steps << " accepted, " << stats.num_rejected_steps << " rejected\n";
  out << "evaluations     " << stats.num_gradient_evals << " gradient, " << stats.num_hessian_vector_evals
      << " Hessian-vector, " << stats.num_jacobian_evals << " Jacobian, " << stats.num_loss_evals << " loss\n";
  if (is_cvode(options.solver)) {
    out << "iterations      " << stats.num_nonlinear_iters << " nonlinear, " << stats.num_linear_iters << " linear\n";
  }
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

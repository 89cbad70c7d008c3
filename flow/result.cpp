#include <gradflow/flow/result.hpp>

#include <gradflow/core/text.hpp>

#include <sstream>

namespace gradflow {

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
  if (mu) {
    out << "rate bound      L(t) <= L_min + (L0 - L_min) exp(-2 mu t), mu = " << format_number("%.6g", *mu) << ": "
        << (bound_holds.value_or(false) ? "holds" : "VIOLATED");
    if (first_bound_violation_t) out << " (first at t = " << format_number("%.6g", *first_bound_violation_t) << ")";
    out << "\n";
  } else {
    out << "rate bound      not checked: mu unknown (give --mu)\n";
  }
  if (options.radius) {
    out << "radius          ||theta - theta0|| <= " << format_number("%.6g", *options.radius) << ": "
        << (radius_holds.value_or(false) ? "holds" : "VIOLATED");
    if (first_radius_violation_t) out << " (first at t = " << format_number("%.6g", *first_radius_violation_t) << ")";
    out << "\n";
  }
  out << "steps           " << stats.num_steps << " accepted, " << stats.num_rejected_steps << " rejected\n";
  out << "evaluations     " << stats.num_gradient_evals << " gradient, " << stats.num_hessian_vector_evals
      << " Hessian-vector, " << stats.num_jacobian_evals << " Jacobian, " << stats.num_loss_evals << " loss\n";
  if (is_cvode(options.solver)) {
    out << "iterations      " << stats.num_nonlinear_iters << " nonlinear, " << stats.num_linear_iters << " linear\n";
  }
  out << "wall time       " << format_number("%.6f", stats.wall_seconds) << " s\n";
  return out.str();
}

}  // namespace gradflow

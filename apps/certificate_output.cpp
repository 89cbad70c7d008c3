#include <gradflow/apps/certificate_output.hpp>

#include <gradflow/core/input_error.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace gradflow::cli {
namespace {

std::string g(double x, const char* fmt = "%.6g") {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, x);
  return buffer;
}

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace

void check_certificate_theta0(const Objective& objective, const Vector& theta0, const std::string& theta0_path) {
  if (theta0_path.empty()) return;
  const double loss = objective.loss(theta0);
  if (!std::isfinite(loss)) {
    throw InputError("--theta0", theta0_path,
                     "L(theta0) = " + g(loss) + " is not finite: the certificate needs a finite loss at theta0");
  }
}

std::string certificate_report(const Certificate& c) {
  std::ostringstream out;
  out << "certificate (rigorous; docs/theory.md §4)\n";
  if (!c.applies) {
    out << "  the theory does not apply: " << c.why_not << "\n";
    return out.str();
  }
  out << "  at theta0      L0 = " << g(c.loss0) << ", ||r0|| = " << g(c.residual_norm)
      << ", sigma0 = sigma_min(J0) = " << g(c.sigma0) << ", ||J0|| = " << g(c.jacobian_norm) << "\n";
  out << "  Lipschitz      l(r) of J on B(theta0, r): " << c.lipschitz_kind << "; l(r*) = " << g(c.lipschitz) << "\n";
  out << "  flow           sigma0^2 = " << g(c.criterion_lhs) << " vs 4 l ||r0|| = " << g(c.criterion_rhs)
      << "; max_r r (sigma0 - l(r) r) = " << g(c.phi_max) << " vs ||r0|| = " << g(c.residual_norm) << ": "
      << (c.holds ? "HOLDS" : "fails") << " (margin " << g(c.margin, "%.3g") << ")\n";
  if (c.holds) {
    out << "                 admissible radii (" << g(c.radius_low) << ", " << g(c.radius_high)
        << "), chosen r* = " << g(c.radius) << "; certified mu = " << g(c.mu) << "; L(t) <= L0 exp(-" << g(c.rate)
        << " t); travel <= " << g(c.travel) << "\n";
  }
  out << "  descent        sigma0^2 = " << g(c.criterion_lhs) << " vs 8 l ||r0|| = " << g(c.descent_criterion_rhs)
      << "; max phi vs 2 ||r0||: " << (c.descent_holds ? "HOLDS" : "fails") << " (margin "
      << g(c.descent_margin, "%.3g") << ")\n";
  if (c.descent_holds) {
    out << "                 beta_r = " << g(c.beta) << ", step 1/beta_r = " << g(c.step)
        << ", q = 1 - mu/beta_r = " << g(c.descent_q, "%.12g") << ", travel <= " << g(c.descent_travel) << "\n";
  }
  out << "  verdict        " << c.verdict() << "\n";
  return out.str();
}

nlohmann::json certificate_json(const Certificate& c) {
  nlohmann::json j;
  j["kind"] = "certificate (rigorous)";
  j["applies"] = c.applies;
  if (!c.applies) {
    j["why_not"] = c.why_not;
    return j;
  }
  j["loss0"] = number(c.loss0);
  j["residual_norm"] = number(c.residual_norm);
  j["sigma0"] = number(c.sigma0);
  j["jacobian_norm"] = number(c.jacobian_norm);
  j["lipschitz_kind"] = c.lipschitz_kind;
  j["lipschitz_at_radius"] = number(c.lipschitz);
  j["criterion"] = {{"sigma0_squared", number(c.criterion_lhs)},
                    {"four_l_r0", number(c.criterion_rhs)},
                    {"eight_l_r0", number(c.descent_criterion_rhs)},
                    {"phi_max", number(c.phi_max)}};
  j["flow"] = {{"holds", c.holds},
               {"margin", number(c.margin)},
               {"radius_low", number(c.radius_low)},
               {"radius_high", number(c.radius_high)},
               {"radius", number(c.radius)},
               {"mu", number(c.mu)},
               {"travel", number(c.travel)},
               {"rate", number(c.rate)}};
  j["descent"] = {{"holds", c.descent_holds},
                  {"margin", number(c.descent_margin)},
                  {"radius", number(c.descent_radius)},
                  {"beta", number(c.beta)},
                  {"step", number(c.step)},
                  {"q", number(c.descent_q)},
                  {"travel", number(c.descent_travel)}};
  j["verdict"] = c.verdict();
  return j;
}

std::string estimate_report(const LocalEstimate& e) {
  std::ostringstream out;
  out << "ESTIMATE (sampled, not a certificate): " << e.samples << " points uniform in B(theta0, " << g(e.radius)
      << ")\n";
  out << "  mu   ~ " << g(e.mu_estimate) << "  (smallest ||grad L||^2 / (2 (L - L_min)) seen)\n";
  out << "  beta ~ " << g(e.beta_estimate) << "  (largest Hessian norm seen, by power iteration)\n";
  return out.str();
}

nlohmann::json estimate_json(const LocalEstimate& e) {
  return {{"kind", "estimate (sampled, not a certificate)"},
          {"radius", e.radius},
          {"samples", e.samples},
          {"mu_estimate", number(e.mu_estimate)},
          {"beta_estimate", number(e.beta_estimate)}};
}

}  // namespace gradflow::cli

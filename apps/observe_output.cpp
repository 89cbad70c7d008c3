#include <gradflow/apps/observe_output.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/tolerances.hpp>

#include <cmath>
#include <cstdio>

namespace gradflow::cli {

void add_observe_option(CLI::App& command, std::vector<std::string>& raw) {
  add_list_option(command, "--observe", raw,
                  "Watch at every recorded row, comma separated: ntk (ntk_min, ntk_max: extreme eigenvalues of "
                  "J J^T; least-squares, mlp), sharpness (largest Hessian eigenvalue, Lanczos estimate), sharpness2 "
                  "(also sharpness_min), condition (ntk_max / ntk_min); adds their columns to --out");
}

Observables parse_observe(const std::vector<std::string>& raw) {
  Observables what;
  const std::vector<std::string> items = split_list(raw, "--observe");
  const std::string problem = parse_observables(items, what);
  if (!problem.empty()) {
    std::string given;
    for (const std::string& item : items) given += (given.empty() ? "" : ",") + item;
    throw InputError("--observe", given, problem);
  }
  return what;
}

void check_observe(const Objective& objective, const Observables& what) {
  const std::string obstacle = observe_obstacle(objective, what);
  if (!obstacle.empty()) throw InputError("--observe", to_string(what), obstacle);
  const long long p = objective.dimension(), n = observed_residuals(objective);
  // A problem with a Gram formula of its own (the network's) forms no Jacobian for the ntk.
  const ResidualObjective* residual = objective.as_residual();
  const bool dense_jacobian = residual != nullptr && !residual->has_gram();
  check_memory(observe_memory(what, p, n, dense_jacobian), "--observe", to_string(what),
               "observing " + to_string(what) + " with p = " + std::to_string(p) +
                   (n > 0 ? " and n = " + std::to_string(n) : std::string()) + " (Lanczos bases of up to " +
                   std::to_string(tolerances::kLanczosMaxVectors) + " vectors, dense Gram matrices)");
}

long observed_residuals(const Objective& objective) {
  const ResidualObjective* residual = objective.as_residual();
  return residual == nullptr ? 0 : static_cast<long>(residual->num_residuals());
}

nlohmann::json observe_json(const Observables& what, const PathExtremes& extremes, const Stats& stats,
                            long num_residuals) {
  const auto value = [](double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); };
  nlohmann::json j;
  j["observe"] = to_string(what);
  j["rows"] = extremes.rows();
  if (what.ntk) {
    j["ntk_method"] = num_residuals <= tolerances::kMaxDenseGramResiduals
                          ? "dense Gram matrix and symmetric eigensolver (to round-off)"
                          : "Lanczos on J (J^T v) from r (estimates: ntk_min from above, ntk_max from below)";
    j["ntk_min_along_path"] = value(extremes.ntk_min());
    j["ntk_max_along_path"] = value(extremes.ntk_max());
    j["min_pl_ratio_minus_ntk_min"] = value(extremes.pl_minus_ntk_min());
  }
  if (what.sharpness) {
    j["sharpness_method"] = "Lanczos on exact Hessian-vector products, warm-started (an estimate)";
    j["sharpness_max_along_path"] = value(extremes.sharpness_max());
  }
  j["num_observe_hessian_vector_evals"] = stats.num_observe_hessian_vector_evals;
  j["num_observe_gram_products"] = stats.num_observe_gram_products;
  j["num_observe_gram_matrices"] = stats.num_observe_gram_matrices;
  return j;
}

std::string certificate_ntk_margin(double certified_mu, double observed_ntk_min, nlohmann::json& certificate) {
  certificate["certified_ntk_min_lower_bound"] = certified_mu;
  certificate["observed_ntk_min_along_run"] =
      std::isnan(observed_ntk_min) ? nlohmann::json(nullptr) : nlohmann::json(observed_ntk_min);
  certificate["ntk_margin"] =
      std::isnan(observed_ntk_min) ? nlohmann::json(nullptr) : nlohmann::json(observed_ntk_min - certified_mu);
  char line[320];
  std::snprintf(line, sizeof line,
                "certificate     observed ntk_min along the run %.6e against the certified lower bound "
                "(sigma0 - l r*)^2 = %.6e: margin %.6e (%s)\n",
                observed_ntk_min, certified_mu, observed_ntk_min - certified_mu,
                // Equal up to the eigensolvers' round-off (core/tolerances.hpp) for a constant Jacobian (l = 0).
                observed_ntk_min >= certified_mu * (1.0 - tolerances::kNtkIdentityRelative)
                    ? "within the certified bound; the margin is what the proof kept in hand"
                    : "BELOW the certified bound");
  return line;
}

}  // namespace gradflow::cli

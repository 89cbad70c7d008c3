#include "common_options.hpp"

#include "cli_support.hpp"
#include "problems/csv.hpp"
#include "problems/input_error.hpp"

#include <ostream>

namespace gradflow::cli {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

bool option_given(CLI::App& command, const char* name) { return command.get_option(name)->count() > 0; }

void add_problem_options(CLI::App& c, ProblemArgs& a) {
  c.add_option("--problem", a.spec.problem, "Objective: " + joined(problem_names()))->capture_default_str();
  c.add_option("--matrix", a.spec.matrix,
               "quadratic: CSV file of the symmetric positive semidefinite matrix A (p rows of p numbers)");
  c.add_option("--minimizer", a.spec.minimizer,
               "quadratic: CSV file of the minimizer theta* (one value per line; default 0)");
  c.add_option("--data", a.spec.data,
               "least-squares: CSV file, one sample per row, the last column the target, optional header row");
  c.add_option("--dim", a.dim, "Dimension p of a generated problem (quadratic, karimi, rosenbrock; default 10)");
  c.add_option("--cond", a.spec.cond, "Generated quadratic: condition number (eigenvalues log-spaced in [1/cond, 1])")
      ->capture_default_str();
  c.add_option("--seed", a.spec.seed, "Seed of the generated quadratic and of the default theta0")
      ->capture_default_str();
  c.add_option("--theta0", a.theta0,
               "CSV file of the initial point, one value per line (default: seeded standard normal)");
}

void add_output_options(CLI::App& c, OutputArgs& a, const std::string& out_help) {
  c.add_option("--out", a.out, out_help);
  c.add_option("--theta-out", a.theta_out, "Write the final theta here, one value per line, full precision");
  c.add_option("--json", a.json, "Write the summary as JSON here");
  c.add_option("--config", a.config, "TOML file with any of these options (the command line wins)");
  c.add_flag("--quiet", a.quiet, "No progress line and no summary on the terminal");
}

LoadedProblem load_problem(CLI::App& c, ProblemArgs& a) {
  if (option_given(c, "--dim")) a.spec.dim = a.dim;
  if (option_given(c, "--cond") && !(a.spec.problem == "quadratic" && a.spec.matrix.empty())) {
    throw InputError("--cond", full_precision(a.spec.cond),
                     "is used only by the generated quadratic (--problem quadratic without --matrix)");
  }
  LoadedProblem loaded;
  loaded.objective = make_problem(a.spec);
  const Eigen::Index p = loaded.objective->dimension();
  if (a.theta0.empty()) {
    loaded.theta0 = default_theta0(p, a.spec.seed);
  } else {
    loaded.theta0 = read_vector_csv(a.theta0, "--theta0");
    if (loaded.theta0.size() != p) {
      throw InputError("--theta0", a.theta0,
                       "has " + std::to_string(loaded.theta0.size()) + " values, the problem has dimension " +
                           std::to_string(p));
    }
  }
  return loaded;
}

void check_output_paths(const OutputArgs& a) {
  if (!a.out.empty()) check_output_path("--out", a.out);
  if (!a.theta_out.empty()) check_output_path("--theta-out", a.theta_out);
  if (!a.json.empty()) check_output_path("--json", a.json);
}

void write_theta(const std::string& option, const std::string& path, const Vector& theta) {
  write_file_atomically(option, path, [&](std::ostream& out) {
    for (Eigen::Index i = 0; i < theta.size(); ++i) out << full_precision(theta[i]) << "\n";
  });
}

}  // namespace gradflow::cli

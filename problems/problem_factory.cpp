#include "problems/problem_factory.hpp"

#include "problems/csv.hpp"
#include "problems/input_error.hpp"
#include "problems/karimi.hpp"
#include "problems/least_squares.hpp"
#include "problems/quadratic.hpp"
#include "problems/random.hpp"
#include "problems/rosenbrock.hpp"

#include <cmath>
#include <sstream>

namespace gradflow {
namespace {

constexpr long kDefaultDim = 10;

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

void reject_unused(const std::string& problem, const std::string& option, const std::string& value) {
  if (!value.empty()) throw InputError(option, value, "is not used by --problem " + problem);
}

long checked_dim(const ProblemSpec& spec) {
  const long dim = spec.dim.value_or(kDefaultDim);
  if (dim < 1) throw InputError("--dim", std::to_string(dim), "must be >= 1");
  if (dim > 100000) throw InputError("--dim", std::to_string(dim), "must be <= 100000");
  return dim;
}

std::unique_ptr<Objective> make_quadratic(const ProblemSpec& spec) {
  reject_unused("quadratic", "--data", spec.data);
  if (spec.matrix.empty()) {
    reject_unused("quadratic (without --matrix)", "--minimizer", spec.minimizer);
    const long dim = checked_dim(spec);
    if (!(spec.cond >= 1.0) || !std::isfinite(spec.cond)) {
      throw InputError("--cond", number(spec.cond), "must be a finite number >= 1");
    }
    if (dim == 1 && spec.cond != 1.0) {
      throw InputError("--cond", number(spec.cond), "needs --dim >= 2 (one eigenvalue has condition number 1)");
    }
    return std::make_unique<Quadratic>(Quadratic::generated(dim, spec.cond, spec.seed));
  }
  const Matrix a = read_csv(spec.matrix, "--matrix").values;
  if (const auto why = Quadratic::check_matrix(a)) throw InputError("--matrix", spec.matrix, *why);
  if (spec.dim && *spec.dim != a.rows()) {
    throw InputError("--dim", std::to_string(*spec.dim),
                     "conflicts with --matrix " + spec.matrix + " (" + std::to_string(a.rows()) + " x " +
                         std::to_string(a.cols()) + ")");
  }
  Vector theta_star = Vector::Zero(a.rows());
  if (!spec.minimizer.empty()) {
    theta_star = read_vector_csv(spec.minimizer, "--minimizer");
    if (theta_star.size() != a.rows()) {
      throw InputError("--minimizer", spec.minimizer,
                       "has " + std::to_string(theta_star.size()) + " values, the matrix is " +
                           std::to_string(a.rows()) + " x " + std::to_string(a.rows()));
    }
  }
  return std::make_unique<Quadratic>(a, theta_star);
}

std::unique_ptr<Objective> make_least_squares(const ProblemSpec& spec) {
  reject_unused("least-squares", "--matrix", spec.matrix);
  reject_unused("least-squares", "--minimizer", spec.minimizer);
  if (spec.data.empty()) throw InputError("--data", "", "is required by --problem least-squares");
  const CsvTable table = read_csv(spec.data, "--data", /*allow_header=*/true);
  if (table.values.cols() < 2) {
    throw InputError("--data", spec.data,
                     "needs at least two columns (features, then the target), found " +
                         std::to_string(table.values.cols()));
  }
  const Eigen::Index p = table.values.cols() - 1;
  if (spec.dim && *spec.dim != p) {
    throw InputError("--dim", std::to_string(*spec.dim),
                     "conflicts with --data " + spec.data + " (" + std::to_string(p) + " feature columns)");
  }
  return std::make_unique<LeastSquares>(table.values.leftCols(p), table.values.col(p));
}

std::unique_ptr<Objective> make_separable(const ProblemSpec& spec) {
  reject_unused(spec.problem, "--matrix", spec.matrix);
  reject_unused(spec.problem, "--minimizer", spec.minimizer);
  reject_unused(spec.problem, "--data", spec.data);
  const long dim = checked_dim(spec);
  if (spec.problem == "karimi") return std::make_unique<Karimi>(dim);
  if (dim % 2 != 0) throw InputError("--dim", std::to_string(dim), "rosenbrock needs an even dimension");
  return std::make_unique<Rosenbrock>(dim);
}

}  // namespace

const std::vector<std::string>& problem_names() {
  static const std::vector<std::string> names{"quadratic", "least-squares", "karimi", "rosenbrock"};
  return names;
}

std::unique_ptr<Objective> make_problem(const ProblemSpec& spec) {
  if (spec.problem == "quadratic") return make_quadratic(spec);
  if (spec.problem == "least-squares") return make_least_squares(spec);
  if (spec.problem == "karimi" || spec.problem == "rosenbrock") return make_separable(spec);
  std::string known;
  for (const auto& name : problem_names()) known += (known.empty() ? "" : ", ") + name;
  throw InputError("--problem", spec.problem, "unknown problem (known: " + known + ")");
}

Vector default_theta0(Eigen::Index dim, std::uint64_t seed) {
  Random random(derive_seed(seed, 1));
  return random.normal_vector(dim);
}

}  // namespace gradflow

#include <gradflow/apps/problem_factory.hpp>

#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace gradflow {
namespace {

constexpr long kDefaultDim = 10;

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

constexpr NameTable<ProblemKind, 5> kProblemNames{{{
    {ProblemKind::quadratic, "quadratic"},
    {ProblemKind::least_squares, "least-squares"},
    {ProblemKind::karimi, "karimi"},
    {ProblemKind::rosenbrock, "rosenbrock"},
    {ProblemKind::mlp, "mlp"},
}}};

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
    // A, the random orthogonal factor and the products that form A, the eigendecomposition.
    SizeEstimate estimate;
    estimate.add({dim, dim, 8, 8});
    check_memory(estimate, "--dim", std::to_string(dim),
                 "a dense " + std::to_string(dim) + " x " + std::to_string(dim) + " quadratic");
    return std::make_unique<Quadratic>(Quadratic::generated(dim, spec.cond, spec.seed));
  }
  const Matrix a = read_csv(spec.matrix, "--matrix").values;
  {
    SizeEstimate estimate;
    estimate.add({a.rows(), a.cols(), 8, 6});  // the checks' eigendecomposition and the problem's copies
    check_memory(estimate, "--matrix", spec.matrix,
                 "a " + std::to_string(a.rows()) + " x " + std::to_string(a.cols()) + " matrix");
  }
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
    throw InputError(
        "--data", spec.data,
        "needs at least two columns (features, then the target), found " + std::to_string(table.values.cols()));
  }
  const Eigen::Index p = table.values.cols() - 1;
  {
    // X and its transpose, and the thin SVD (U, V, its work space).
    const Eigen::Index n = table.values.rows();
    SizeEstimate estimate;
    estimate.add({n, p, 8, 4});
    estimate.add({std::min(n, p), n + p, 8, 3});
    check_memory(estimate, "--data", spec.data,
                 "least squares with " + std::to_string(n) + " samples and " + std::to_string(p) + " features");
  }
  if (spec.dim && *spec.dim != p) {
    throw InputError("--dim", std::to_string(*spec.dim),
                     "conflicts with --data " + spec.data + " (" + std::to_string(p) + " feature columns)");
  }
  return std::make_unique<LeastSquares>(table.values.leftCols(p), table.values.col(p));
}

std::unique_ptr<Objective> make_separable(const ProblemSpec& spec) {
  reject_unused(std::string(to_string(spec.problem)), "--matrix", spec.matrix);
  reject_unused(std::string(to_string(spec.problem)), "--minimizer", spec.minimizer);
  reject_unused(std::string(to_string(spec.problem)), "--data", spec.data);
  const long dim = checked_dim(spec);
  if (spec.problem == ProblemKind::karimi) return std::make_unique<Karimi>(dim);
  if (dim % 2 != 0) throw InputError("--dim", std::to_string(dim), "rosenbrock needs an even dimension");
  return std::make_unique<Rosenbrock>(dim);
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::string list(const std::vector<long>& values) {
  std::string text;
  for (const long v : values) {
    if (!text.empty()) text += ',';
    text += std::to_string(v);
  }
  return text;
}

MlpArchitecture architecture_of(const ProblemSpec& spec, Eigen::Index input_dim) {
  MlpArchitecture architecture;
  architecture.input_dim = input_dim;
  if (spec.widths.empty()) throw InputError("--widths", "", "the network needs at least one hidden layer");
  for (const long w : spec.widths) {
    if (w < 1)
      throw InputError("--widths", list(spec.widths), "a width of " + std::to_string(w) + " (widths must be >= 1)");
    if (w > 100000) throw InputError("--widths", list(spec.widths), "widths must be <= 100000");
    architecture.widths.push_back(w);
  }
  architecture.activation = spec.activation;
  architecture.bias = spec.bias;
  return architecture;
}

std::unique_ptr<Mlp> make_mlp(const ProblemSpec& spec, std::optional<NetworkData>* train_out = nullptr,
                              std::optional<NetworkData>* test_out = nullptr) {
  reject_unused("mlp", "--matrix", spec.matrix);
  reject_unused("mlp", "--minimizer", spec.minimizer);
  // 0 makes every output 0 at initialization, a negative scale is the positive scheme's mirror image
  // (as MLP.init(output_scale=...) in Python, refused).
  if (!std::isfinite(spec.output_scale) || !(spec.output_scale > 0.0))
    throw InputError("--output-scale", number(spec.output_scale), "must be a finite number > 0");
  NetworkData data;
  if (!spec.synthetic.empty()) {
    if (!spec.data.empty()) throw InputError("--synthetic", list(spec.synthetic), "cannot be combined with --data");
    if (spec.synthetic.size() != 2 || spec.synthetic[0] < 1 || spec.synthetic[1] < 1) {
      throw InputError("--synthetic", list(spec.synthetic), "expected n,d with n, d >= 1");
    }
    SizeEstimate estimate;
    estimate.add({spec.synthetic[0], spec.synthetic[1], 8, 3});  // the samples, their copy in the network
    check_memory(estimate, "--synthetic", list(spec.synthetic),
                 "synthetic data of " + std::to_string(spec.synthetic[0]) + " samples and " +
                     std::to_string(spec.synthetic[1]) + " features");
    std::optional<TeacherSpec> teacher;
    if (spec.teacher) {
      const MlpArchitecture student = architecture_of(spec, spec.synthetic[1]);
      teacher = TeacherSpec{student.widths, student.activation};
    }
    data = synthetic_data(spec.synthetic[0], spec.synthetic[1], spec.seed, teacher);
  } else {
    if (spec.data.empty()) throw InputError("--data", "", "--problem mlp needs --data or --synthetic n,d");
    if (spec.teacher) throw InputError("--teacher", "", "is used only with --synthetic");
    const CsvTable table = read_csv(spec.data, "--data", /*allow_header=*/true);
    if (table.values.cols() < 2) {
      throw InputError(
          "--data", spec.data,
          "needs at least two columns (features, then the target), found " + std::to_string(table.values.cols()));
    }
    const Eigen::Index d = table.values.cols() - 1;
    data.x = table.values.leftCols(d);
    data.y = table.values.col(d);
  }
  std::optional<NetworkData> test;
  if (!(std::isfinite(spec.holdout) && spec.holdout >= 0.0 && spec.holdout < 1.0))
    throw InputError("--holdout", number(spec.holdout), "must be a fraction in [0, 1) (0: no held-out points)");
  if (spec.holdout > 0.0 && !spec.test_data.empty())
    throw InputError("--holdout", number(spec.holdout), "cannot be combined with --test-data (give one of the two)");
  if (spec.holdout > 0.0) {
    try {
      HoldoutSplit split = split_holdout(data, spec.holdout, spec.holdout_seed);
      data = std::move(split.train);
      test = std::move(split.test);
    } catch (const std::invalid_argument& e) {
      throw InputError("--holdout", number(spec.holdout), e.what());
    }
  } else if (!spec.test_data.empty()) {
    const CsvTable table = read_csv(spec.test_data, "--test-data", /*allow_header=*/true);
    if (table.values.cols() != data.x.cols() + 1) {
      throw InputError("--test-data", spec.test_data,
                       "has " + std::to_string(table.values.cols()) + " columns, the training data " +
                           std::to_string(data.x.cols() + 1) + " (features, then the target)");
    }
    test = NetworkData{table.values.leftCols(data.x.cols()), table.values.col(data.x.cols())};
  }
  if (test) {
    TransformedData both =
        transform_train_test(data, test, spec.standardize ? Preprocess::standardize : Preprocess::none);
    data = std::move(both.train);
    test = std::move(both.test);
    if (train_out) *train_out = data;
    if (test_out) *test_out = test;
  } else if (spec.standardize) {
    standardize(data);
  }
  const MlpArchitecture architecture = architecture_of(spec, data.x.cols());
  check_network_memory(architecture, data.x.rows(), 1);
  if (spec.dim)
    throw InputError("--dim", std::to_string(*spec.dim),
                     "is not used by --problem mlp (p follows from --widths and the data)");
  return std::make_unique<Mlp>(architecture, std::move(data.x), std::move(data.y));
}

}  // namespace

void check_network_memory(const MlpArchitecture& architecture, long n, int copies) {
  SizeEstimate total;
  const SizeEstimate one = network_memory(architecture, n);
  for (int c = 0; c < std::max(copies, 1); ++c) total.add(one);
  std::string widths;
  for (const Eigen::Index w : architecture.widths) {
    if (!widths.empty()) widths += ',';
    widths += std::to_string(w);
  }
  check_memory(total, "--widths", widths,
               "a network of " + std::to_string(architecture.widths.size()) + " hidden layer(s) on " +
                   std::to_string(n) + " samples of " + std::to_string(architecture.input_dim) + " features" +
                   (copies > 1 ? " (one copy per thread, " + std::to_string(copies) + " threads)" : ""));
}

std::string_view to_string(ProblemKind problem) { return kProblemNames.name(problem); }

std::optional<ProblemKind> problem_from_string(std::string_view name) { return kProblemNames.value(name); }

const std::vector<std::string>& problem_names() { return kProblemNames.cached_names(); }

ProblemKind parse_problem(const std::string& name) {
  if (const auto problem = problem_from_string(name)) return *problem;
  throw InputError("--problem", name, "unknown problem (known: " + joined(problem_names()) + ")");
}

Activation parse_activation(const std::string& name) {
  if (const auto activation = activation_from_string(name)) return *activation;
  throw InputError("--activation", name, "unknown activation (known: " + joined(activation_names()) + ")");
}

InitScheme parse_init_scheme(const std::string& name) {
  if (const auto scheme = init_scheme_from_string(name)) return *scheme;
  throw InputError("--init", name, "unknown initialization (known: " + joined(init_scheme_names()) + ")");
}

Vector initial_point(const ProblemSpec& spec, const Objective& objective, const Mlp* network) {
  if (network != nullptr) {
    InitOptions init;
    init.scheme = spec.init;
    init.seed = spec.init_seed;
    init.output_scale = spec.output_scale;
    return initialize(network->architecture(), init);
  }
  return default_theta0(objective.dimension(), spec.seed);
}

Problem build_problem(const ProblemSpec& spec) {
  Problem built;
  if (spec.problem != ProblemKind::mlp && (spec.holdout != 0.0 || !spec.test_data.empty()))
    throw InputError(spec.test_data.empty() ? "--holdout" : "--test-data", "", "is used only by --problem mlp");
  switch (spec.problem) {
    case ProblemKind::quadratic:
      built.objective = make_quadratic(spec);
      return built;
    case ProblemKind::least_squares:
      built.objective = make_least_squares(spec);
      return built;
    case ProblemKind::karimi:
    case ProblemKind::rosenbrock:
      built.objective = make_separable(spec);
      return built;
    case ProblemKind::mlp: {
      std::unique_ptr<Mlp> network = make_mlp(spec, &built.train, &built.test);
      built.network = network.get();
      built.objective = std::move(network);
      return built;
    }
  }
  throw std::logic_error("build_problem(): unknown problem kind");
}

std::unique_ptr<Objective> make_problem(const ProblemSpec& spec) { return build_problem(spec).objective; }

}  // namespace gradflow

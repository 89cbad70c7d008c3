#include <gradflow/apps/common_options.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>

#include <iostream>
#include <limits>
#include <ostream>

namespace gradflow::cli {
bool option_given(CLI::App& command, const char* name) { return command.get_option(name)->count() > 0; }

void add_problem_options(CLI::App& c, ProblemArgs& a) {
  c.add_option("--problem", a.problem, "Objective: " + join_names(problem_names()))->capture_default_str();
  c.add_option("--matrix", a.spec.matrix,
               "quadratic: CSV file of the symmetric positive semidefinite matrix A (p rows of p numbers)");
  c.add_option("--minimizer", a.spec.minimizer,
               "quadratic: CSV file of the minimizer theta* (one value per line; default 0)");
  c.add_option("--data", a.spec.data,
               "least-squares: CSV file, one sample per row, the last column the target, optional header row");
  c.add_option("--dim", a.dim, "Dimension p of a generated problem (quadratic, karimi, rosenbrock; default 10)");
  c.add_option("--cond", a.spec.cond, "Generated quadratic: condition number (eigenvalues log-spaced in [1/cond, 1])")
      ->capture_default_str();
  c.add_option("--seed", a.spec.seed,
               "Seed of the generated quadratic and of the default theta0 (an integer in [0, 2^64 - 1])")
      ->check(seed_validator())
      ->capture_default_str();
  c.add_option("--theta0", a.theta0,
               "CSV file of the initial point, one value per line (default: seeded standard normal; mlp: --init)");
  // The network problem.
  add_list_option(c, "--widths", a.widths, "mlp: hidden-layer widths, comma separated (e.g. 64,64; default 64)");
  c.add_option("--activation", a.activation, "mlp: activation: " + join_names(activation_names()))
      ->capture_default_str();
  c.add_flag("--bias", a.spec.bias, "mlp: biases in every layer (off by default, as in the theory)");
  c.add_option("--init", a.init, "mlp: initialization: " + join_names(init_scheme_names()))->capture_default_str();
  c.add_option("--init-seed", a.spec.init_seed, "mlp: seed of the initialization (an integer in [0, 2^64 - 1])")
      ->check(seed_validator())
      ->capture_default_str();
  c.add_option("--output-scale", a.spec.output_scale, "mlp: scale s of the output layer at initialization")
      ->capture_default_str();
  add_list_option(c, "--synthetic", a.synthetic,
                  "mlp: synthetic data n,d (x ~ N(0, I/d), targets N(0, 1); seeded by --seed) instead of --data");
  c.add_flag("--teacher", a.spec.teacher, "mlp: synthetic targets from a random teacher network of the same shape");
  c.add_flag("--standardize", a.spec.standardize, "mlp: standardize the features and the targets");
  c.add_option("--holdout", a.spec.holdout,
               "mlp: hold out this fraction of the data (a split seeded by --holdout-seed); the summary reports the "
               "trained network's test_loss, test_accuracy and distance to the minimum-norm linear interpolant there")
      ->capture_default_str();
  c.add_option("--holdout-seed", a.spec.holdout_seed, "mlp: the held-out split's seed")->capture_default_str();
  c.add_option("--test-data", a.spec.test_data,
               "mlp: held-out points from a CSV file (as --data), instead of --holdout");
  add_memory_option(c, a.max_memory);
}

void add_output_options(CLI::App& c, OutputArgs& a, const std::string& out_help) {
  c.add_option("--out", a.out, out_help + " ('-': standard output)");
  c.add_option("--theta-out", a.theta_out,
               "Write the final theta here, one value per line, full precision ('-': standard output)");
  c.add_option("--json", a.json, "Write the summary as JSON here ('-': standard output)");
  c.add_option("--config", a.config, "TOML file with any of these options (the command line wins)");
  c.add_flag("--quiet", a.quiet, "No progress line and no summary on the terminal");
}

void prepare_problem_args(CLI::App& c, ProblemArgs& a) {
  apply_memory_option(a.max_memory);
  if (option_given(c, "--widths")) a.spec.widths = parse_integer_list(a.widths, "--widths", 1, 100000, "a width");
  if (option_given(c, "--synthetic")) {
    a.spec.synthetic = parse_integer_list(a.synthetic, "--synthetic", 1, std::numeric_limits<long>::max(), "a size");
    if (a.spec.synthetic.size() != 2) {
      throw InputError("--synthetic", CLI::detail::join(a.synthetic, ","),
                       "expected n,d (two sizes), found " + std::to_string(a.spec.synthetic.size()) + " items");
    }
  }
  resolve_problem_names(a);
}

void resolve_problem_names(ProblemArgs& a) {
  a.spec.problem = parse_problem(a.problem);
  a.spec.activation = parse_activation(a.activation);
  a.spec.init = parse_init_scheme(a.init);
}

LoadedProblem load_problem(CLI::App& c, ProblemArgs& a) {
  prepare_problem_args(c, a);
  set_activity("loading the problem");
  if (option_given(c, "--dim")) a.spec.dim = a.dim;
  if (option_given(c, "--cond") && !(a.spec.problem == ProblemKind::quadratic && a.spec.matrix.empty())) {
    throw InputError("--cond", full_precision(a.spec.cond),
                     "is used only by the generated quadratic (--problem quadratic without --matrix)");
  }
  if (a.spec.problem != ProblemKind::mlp) {
    for (const char* option :
         {"--widths", "--activation", "--bias", "--init", "--init-seed", "--output-scale", "--synthetic", "--teacher",
          "--standardize", "--holdout", "--holdout-seed", "--test-data"}) {
      if (option_given(c, option)) throw InputError(option, "", "is used only by --problem mlp");
    }
  }
  LoadedProblem loaded;
  Problem built = build_problem(a.spec);
  loaded.objective = std::move(built.objective);
  loaded.network = built.network;
  loaded.train = std::move(built.train);
  loaded.test = std::move(built.test);
  const Eigen::Index p = loaded.objective->dimension();
  loaded.description["name"] = loaded.objective->name();
  loaded.description["dim"] = p;
  const Mlp* network = loaded.network;
  if (network) {
    const MlpArchitecture& arch = network->architecture();
    loaded.data_report = independence_report(network->inputs());
    const IndependenceReport& r = *loaded.data_report;
    loaded.description["network"] = {{"input_dim", arch.input_dim},
                                     {"widths", arch.widths},
                                     {"activation", std::string(to_string(arch.activation))},
                                     {"activation_qualifies", qualifies(arch.activation)},
                                     {"bias", arch.bias},
                                     {"init", std::string(to_string(a.spec.init))},
                                     {"init_seed", a.spec.init_seed},
                                     {"output_scale", a.spec.output_scale},
                                     {"parameters", p}};
    loaded.description["data"] = {{"n", r.n},
                                  {"d", r.d},
                                  {"rank", r.rank},
                                  {"sigma_min", r.sigma_min},
                                  {"sigma_max", r.sigma_max},
                                  {"inputs_independent", r.applies},
                                  {"source", a.spec.synthetic.empty() ? "file" : "synthetic"}};
  }
  if (a.theta0.empty()) {
    loaded.theta0 = initial_point(a.spec, *loaded.objective, loaded.network);
  } else {
    loaded.theta0 = read_vector_csv(a.theta0, "--theta0");
    if (loaded.theta0.size() != p) {
      std::string what = "the problem has dimension " + std::to_string(p);
      if (network) {
        what = "the network with d = " + std::to_string(network->architecture().input_dim) + " inputs and widths " +
               CLI::detail::join(network->architecture().widths, ",") + " has p = " + std::to_string(p) + " parameters";
      }
      throw InputError("--theta0", a.theta0, "has " + std::to_string(loaded.theta0.size()) + " values, " + what);
    }
  }
  return loaded;
}

void print_problem_report(const LoadedProblem& loaded, const char* command, bool quiet) {
  if (!loaded.data_report || quiet) return;
  const IndependenceReport& r = *loaded.data_report;
  std::cout << r.message.substr(0, r.message.find("; warning")) << "\n";
  if (!r.applies) std::cerr << "gradflow " << command << ": " << r.message.substr(r.message.find("warning")) << "\n";
  const Mlp* network = loaded.network;
  if (network && !qualifies(network->architecture().activation)) {
    std::cerr << "gradflow " << command << ": warning: " << why_not_qualified(network->architecture().activation)
              << "; the theory does not cover it\n";
  }
}

std::vector<NamedPath> input_paths(const ProblemArgs& a, const std::string& config) {
  std::vector<NamedPath> inputs;
  for (const auto& [option, path] : {std::pair<const char*, const std::string&>{"--matrix", a.spec.matrix},
                                     {"--minimizer", a.spec.minimizer},
                                     {"--data", a.spec.data},
                                     {"--test-data", a.spec.test_data},
                                     {"--theta0", a.theta0},
                                     {"--config", config}}) {
    if (!path.empty()) inputs.push_back({option, path});
  }
  return inputs;
}

std::vector<NamedPath> given_outputs(CLI::App& c, const std::vector<std::pair<const char*, std::string>>& outputs) {
  std::vector<NamedPath> given;
  for (const auto& [option, path] : outputs)
    if (option_given(c, option) || !path.empty()) given.push_back({option, path});
  return given;
}

void check_output_paths(CLI::App& c, const OutputArgs& a, const ProblemArgs& problem,
                        const std::vector<std::pair<const char*, std::string>>& extra) {
  std::vector<std::pair<const char*, std::string>> outputs = {
      {"--out", a.out}, {"--theta-out", a.theta_out}, {"--json", a.json}};
  outputs.insert(outputs.end(), extra.begin(), extra.end());
  check_paths(input_paths(problem, a.config), given_outputs(c, outputs), /*dash_is_stdout=*/true);
}

void check_certificate_depth(const ProblemArgs& a, const std::string& why) {
  if (a.spec.problem != ProblemKind::mlp || a.spec.widths.size() <= kMaxCertifiedDepth) return;
  throw InputError("--widths", CLI::detail::join(a.widths, ","),
                   std::to_string(a.spec.widths.size()) + " hidden layers: " + why +
                       " handles at most 64 hidden layers (as sweeps do; the Lipschitz bound of deeper networks can "
                       "take hours)");
}

int set_network_threads(const LoadedProblem& loaded, long requested, const char* command, bool quiet) {
  if (loaded.network == nullptr) return 1;  // the other problems evaluate on one thread
  const ThreadPlan plan = plan_threads(requested, std::numeric_limits<long>::max());
  if (!plan.warning.empty() && !quiet) std::cerr << "gradflow " << command << ": warning: " << plan.warning << "\n";
  const int threads = loaded.objective->set_threads(plan.threads);
  if (threads < plan.threads && !quiet) {
    std::cerr << "gradflow " << command << ": warning: could create only " << threads << " of " << plan.threads
              << " threads (a limit on processes or memory); going on with " << threads << "\n";
  }
  return threads;
}

void write_theta(const std::string& option, const std::string& path, const Vector& theta) {
  write_output(option, path, [&](std::ostream& out) {
    for (Eigen::Index i = 0; i < theta.size(); ++i) out << full_precision(theta[i]) << "\n";
  });
}

}  // namespace gradflow::cli

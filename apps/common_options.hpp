// Options shared by the subcommands that run a problem (flow, descend): the problem and its data, the
// initial point, and the output files.
#pragma once

#include <gradflow/apps/problem_factory.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/problems/network_data.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <optional>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gradflow::cli {

struct ProblemArgs {
  ProblemSpec spec;
  // The names as given; load_problem() turns them into spec's enumerations.
  std::string problem = "quadratic";
  std::string activation = "tanh";
  std::string init = "positive";
  long dim = 0;        // copied into spec.dim when --dim is given
  std::string theta0;  // CSV file; empty = the problem's default initial point
  // List options as given (split and checked by load_problem: apps/list_option.hpp).
  std::vector<std::string> widths;
  std::vector<std::string> synthetic;
  std::string max_memory;  // --max-memory (empty: 75% of physical memory)
};

struct OutputArgs {
  std::string out;
  std::string theta_out;
  std::string json;
  std::string config;
  bool quiet = false;
};

struct LoadedProblem {
  std::unique_ptr<Objective> objective;
  const Mlp* network = nullptr;  // the objective as the network it is (--problem mlp), else null
  Vector theta0;
  std::optional<IndependenceReport> data_report;  // mlp: whether the inputs are linearly independent
  nlohmann::json description;                     // what the summary JSON says about the problem
  // mlp with --holdout or --test-data: the training and the held-out points (experiments/held_out.hpp).
  std::optional<NetworkData> train, test;
};

void add_problem_options(CLI::App& command, ProblemArgs& args);
// out_help describes what --out writes.
void add_output_options(CLI::App& command, OutputArgs& args, const std::string& out_help);

// Turns the names in args into spec's enumerations; an unknown name is an InputError naming the option.
void resolve_problem_names(ProblemArgs& args);
// Builds the problem (after resolve_problem_names) and reads or draws theta0; throws InputError naming the option on
// bad input.
LoadedProblem load_problem(CLI::App& command, ProblemArgs& args);
// Prints the data report of a network problem (stdout) and its warning, if any (stderr).
void print_problem_report(const LoadedProblem& loaded, const char* command, bool quiet);
// The input files a command was given (--matrix, --minimizer, --data, --test-data, --theta0, --config).
std::vector<NamedPath> input_paths(const ProblemArgs& args, const std::string& config);
// The outputs given (an option given with an empty value included, so that it is refused).
std::vector<NamedPath> given_outputs(CLI::App& command,
                                     const std::vector<std::pair<const char*, std::string>>& outputs);
// Checks every output against the inputs and each other, before anything runs (apps/support/output_file.hpp);
// "-" is standard output.
// extra: a command's own outputs (e.g. {"--states-out", path}).
void check_output_paths(CLI::App& command, const OutputArgs& args, const ProblemArgs& problem,
                        const std::vector<std::pair<const char*, std::string>>& extra = {});
// Parses the list and seed options, applies --max-memory, and resolves the names (before the checks).
void prepare_problem_args(CLI::App& command, ProblemArgs& args);
// The certificate (certify, --certify, probability) handles at most this many hidden layers, as sweeps
// do: its product-of-norms Lipschitz bound of deeper networks can take hours (150 layers: minutes).
inline constexpr std::size_t kMaxCertifiedDepth = 64;
// Throws InputError naming --widths when the network is deeper than kMaxCertifiedDepth.
void check_certificate_depth(const ProblemArgs& args, const std::string& why);
// --threads of a network problem: at most 4x the cores (a warning above), and the run goes on with
// the threads the system lets it create (a warning when fewer). Returns the threads used (1 when the
// problem is not a network).
int set_network_threads(const LoadedProblem& loaded, long requested, const char* command, bool quiet);
// Writes theta one value per line at full precision, whole or not at all ("-": standard output).
void write_theta(const std::string& option, const std::string& path, const Vector& theta);

bool option_given(CLI::App& command, const char* name);

}  // namespace gradflow::cli

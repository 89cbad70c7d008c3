// Building a problem from the options of the command line (or a config file): the problem's name and
// where its data come from. Every bad value is an InputError naming the option.
#pragma once

#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

enum class ProblemKind { quadratic, least_squares, karimi, rosenbrock, mlp };

std::string_view to_string(ProblemKind problem);
std::optional<ProblemKind> problem_from_string(std::string_view name);  // '_' written '-'
const std::vector<std::string>& problem_names();

// The names of the command line as enumerations; an unknown name is an InputError naming the option
// and listing the known names.
ProblemKind parse_problem(const std::string& name);
Activation parse_activation(const std::string& name);
InitScheme parse_init_scheme(const std::string& name);

struct ProblemSpec {
  ProblemKind problem = ProblemKind::quadratic;
  std::string matrix;       // quadratic: CSV of A (p rows of p numbers); empty = generate
  std::string minimizer;    // quadratic: CSV of theta* (one value per line); empty = 0
  std::string data;         // least-squares: CSV, rows are samples, last column the target
  std::optional<long> dim;  // generated problems: dimension p (default 10)
  double cond = 100.0;      // generated quadratic: condition number beta / mu, >= 1
  std::uint64_t seed = 0;   // generated problems and data, and the default theta0

  // mlp: the network and its data (see mlp.hpp, initialization.hpp, network_data.hpp)
  std::vector<long> widths{64};  // hidden widths, each >= 1
  Activation activation = Activation::tanh;
  bool bias = false;                       // biases in every layer
  InitScheme init = InitScheme::positive;  // the default theta0 of mlp
  std::uint64_t init_seed = 0;             // seed of the initialization
  double output_scale = 1.0;               // s: multiplies the output layer at initialization
  std::vector<long> synthetic;             // {n, d}: synthetic data instead of --data
  bool teacher = false;                    // synthetic targets from a random teacher network
  bool standardize = false;                // standardize features and targets
  // Held-out points (experiments/held_out.hpp): a seeded fraction of the data, or a CSV file as --data
  // reads it (not both); --standardize is then fitted on the training points and applied to them.
  double holdout = 0.0;
  std::uint64_t holdout_seed = 0;
  std::string test_data;
};

// A built problem: the objective, and the same object as the network it is (--problem mlp) or null,
// so that the commands reach the network's architecture and data without a cast.
struct Problem {
  std::unique_ptr<Objective> objective;
  const Mlp* network = nullptr;
  // mlp with held-out points: the training data (for the minimum-norm interpolant) and the held-out ones.
  std::optional<NetworkData> train, test;
};

// Builds the problem; every size is checked against the memory limit first (apps/support/memory_limit.hpp).
Problem build_problem(const ProblemSpec& spec);
std::unique_ptr<Objective> make_problem(const ProblemSpec& spec);  // build_problem(spec).objective

// network_memory (problems/mlp.hpp) against the limit with `copies` copies (one per thread), naming
// --widths.
void check_network_memory(const MlpArchitecture& architecture, long n, int copies);

// The default initial point of a problem built from spec: the initialization scheme for mlp,
// default_theta0 otherwise (network: the objective as a network, or null).
Vector initial_point(const ProblemSpec& spec, const Objective& objective, const Mlp* network);

}  // namespace gradflow

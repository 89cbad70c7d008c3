// Building a problem from the options of the command line (or a config file): the problem's name and
// where its data come from. Every bad value is an InputError naming the option.
#pragma once

#include "objective.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

struct ProblemSpec {
  std::string problem = "quadratic";  // one of problem_names()
  std::string matrix;                 // quadratic: CSV of A (p rows of p numbers); empty = generate
  std::string minimizer;              // quadratic: CSV of theta* (one value per line); empty = 0
  std::string data;                   // least-squares: CSV, rows are samples, last column the target
  std::optional<long> dim;            // generated problems: dimension p (default 10)
  double cond = 100.0;                // generated quadratic: condition number beta / mu, >= 1
  std::uint64_t seed = 0;             // generated problems and data, and the default theta0

  // mlp: the network and its data (see mlp.hpp, initialization.hpp, network_data.hpp)
  std::vector<long> widths{64};       // hidden widths, each >= 1
  std::string activation = "tanh";    // one of activation_names()
  bool bias = false;                  // biases in every layer
  std::string init = "positive";      // one of init_scheme_names(): the default theta0 of mlp
  std::uint64_t init_seed = 0;        // seed of the initialization
  double output_scale = 1.0;          // s: multiplies the output layer at initialization
  std::vector<long> synthetic;        // {n, d}: synthetic data instead of --data
  bool teacher = false;               // synthetic targets from a random teacher network
  bool standardize = false;           // standardize features and targets
};

const std::vector<std::string>& problem_names();

std::unique_ptr<Objective> make_problem(const ProblemSpec& spec);

// The default initial point: seeded standard normal, from a stream of `seed` separate from the one
// that generates problem data.
Vector default_theta0(Eigen::Index dim, std::uint64_t seed);

// The default initial point of a problem built from spec: the initialization scheme for mlp,
// default_theta0 otherwise.
Vector initial_point(const ProblemSpec& spec, const Objective& objective);

}  // namespace gradflow

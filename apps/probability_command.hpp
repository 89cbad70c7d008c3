// `gradflow probability`: Monte Carlo over seeded draws of an initialization of the network: how often
// the certificate holds, and how often descent reaches loss <= eps L0 within K steps.
#pragma once

#include <gradflow/apps/common_options.hpp>
#include <gradflow/experiments/probability.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace gradflow::cli {

struct ProbabilityCommand {
  ProblemArgs problem;
  ProbabilityOptions options;
  std::string step{to_string(ProbabilityOptions{}.descent.step)};  // --step, as given
  double gamma = 0.0;
  double loss_tol = 0.0;  // --loss-tol, when given
  std::string out;
  std::string json;
  std::string config;
  bool quiet = false;

  CLI::App* command = nullptr;
};

void add_probability_command(CLI::App& app, ProbabilityCommand& probability);
int run_probability_command(ProbabilityCommand& probability);

}  // namespace gradflow::cli

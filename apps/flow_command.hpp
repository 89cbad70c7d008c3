// `gradflow flow`: integrate the gradient flow of a problem and write the trajectory and a summary.
#pragma once

#include <gradflow/apps/common_options.hpp>
#include <gradflow/flow/options.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gradflow::cli {

struct FlowCommand {
  ProblemArgs problem;
  OutputArgs output;
  FlowOptions options;
  std::string solver = "dopri5";
  std::string krylov = "gmres";
  double mu = 0.0;           // copied into options.mu when --mu is given
  long max_steps = 1000000;  // --max-steps, copied into options.stop.max_steps
  bool certify = false;
  std::vector<std::string> times;  // --times as given (apps/list_option.hpp)
  std::string states_out;          // --states-out: theta at every recorded row
  int threads = 0;                 // --threads: threads of the network's evaluations (0 = all cores)

  std::vector<std::string> observe;  // --observe as given (apps/observe_output.hpp)
  std::string model = "plain";       // --flow: plain, modified or central (discrete/flow_models.hpp)
  double lr = 0.0;                   // --lr: the descent step the modified and central flows model

  CLI::App* command = nullptr;
};

void add_flow_command(CLI::App& app, FlowCommand& flow);
// Runs after parsing; returns the exit code. Throws InputError for bad input.
int run_flow_command(FlowCommand& flow);

}  // namespace gradflow::cli

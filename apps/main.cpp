// The gradflow command line: one subcommand per kind of run.
#include <gradflow/apps/certify_command.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/descend_command.hpp>
#include <gradflow/apps/flow_command.hpp>
#include <gradflow/apps/probability_command.hpp>
#include <gradflow/apps/sweep/sweep_command.hpp>
#include <gradflow/core/input_error.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{
      "gradflow: gradient flows and gradient descent, checked against Polyak-Lojasiewicz convergence theory.\n"
      "Run 'gradflow <command> --help' for the options of a command."};
  app.footer(
      "Environment: GRADFLOW_SIMD=baseline makes the network's matrix products use baseline x86-64 code\n"
      "  instead of AVX2 + FMA (auto, the default, picks AVX2 when the processor has it). The two round\n"
      "  differently: set it on both machines to compare network runs bit for bit across machines.");
  app.set_version_flag("--version", "gradflow 0.1.0");
  app.require_subcommand(1);
  gradflow::cli::FlowCommand flow;
  gradflow::cli::add_flow_command(app, flow);
  gradflow::cli::DescendCommand descend;
  gradflow::cli::add_descend_command(app, descend);
  gradflow::cli::CertifyCommand certify;
  gradflow::cli::add_certify_command(app, certify);
  gradflow::cli::ProbabilityCommand probability;
  gradflow::cli::add_probability_command(app, probability);
  gradflow::cli::SweepCommand sweep;
  gradflow::cli::add_sweep_command(app, sweep);
  gradflow::cli::CompareInitsCommand compare;
  gradflow::cli::add_compare_inits_command(app, compare);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gradflow: error: " << e.what() << " (see gradflow --help)\n";
    return gradflow::cli::kExitBadInput;
  }

  const std::string command = app.get_subcommands().front()->get_name();
  try {
    if (command == "flow") return gradflow::cli::run_flow_command(flow);
    if (command == "descend") return gradflow::cli::run_descend_command(descend);
    if (command == "certify") return gradflow::cli::run_certify_command(certify);
    if (command == "probability") return gradflow::cli::run_probability_command(probability);
    if (command == "sweep") return gradflow::cli::run_sweep_command(sweep);
    if (command == "compare-inits") return gradflow::cli::run_compare_inits_command(compare);
  } catch (const gradflow::InputError& e) {
    std::cerr << "gradflow " << command << ": error: " << e.what() << "\n";
    return gradflow::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "gradflow " << command << ": error: " << e.what() << "\n";
    return gradflow::cli::kExitRunFailed;
  }
  return gradflow::cli::kExitBadInput;
}

// The gradflow command line: one subcommand per kind of run.
#include <gradflow/apps/certify_command.hpp>
#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/descend_command.hpp>
#include <gradflow/apps/flow_command.hpp>
#include <gradflow/apps/probability_command.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/apps/sweep/sweep_command.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/problems/detail/gemm.hpp>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>

namespace {

int run_main(int argc, char** argv) {
  CLI::App app{
      "gradflow: gradient flows and gradient descent, checked against Polyak-Lojasiewicz convergence theory.\n"
      "Run 'gradflow <command> --help' for the options of a command."};
  app.footer(
      "Environment: the network's matrix products run on OpenBLAS (its kernels for this processor, one\n"
      "  OpenBLAS thread per call: gradflow's --threads owns the cores) when the build has it, else on\n"
      "  Eigen for AVX2 + FMA where the processor has them. GRADFLOW_GEMM=eigen uses Eigen instead of\n"
      "  OpenBLAS. GRADFLOW_SIMD=baseline uses Eigen's baseline x86-64 code: the same bits on every\n"
      "  x86-64 machine (set it on both to compare network runs bit for bit across machines). On one\n"
      "  machine every choice gives the same bits for any --threads. --version names the one that runs.");
  app.set_version_flag("--version", [] {
    return std::string("gradflow " GRADFLOW_VERSION "\nmatrix products: ") + gradflow::kernels::gemm_instruction_set();
  });
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
  gradflow::cli::add_integer_checks(app);

  try {
    gradflow::cli::check_empty_values(app, argc, argv);
  } catch (const gradflow::InputError& e) {
    std::cerr << "gradflow: error: " << gradflow::terminal_text(e.what()) << "\n";
    return gradflow::cli::kExitBadInput;
  }
  // A first word that is not an option and not a command: named (CLI11 says only "A subcommand is required").
  if (argc > 1 && argv[1][0] != '-') {
    std::string commands;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->check_name(argv[1]);
    }
    if (!known) {
      std::cerr << "gradflow: error: '" << gradflow::quote_text(argv[1]) << "' is not a command (commands: " << commands
                << "; see gradflow --help)\n";
      return gradflow::cli::kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gradflow: error: " << gradflow::quote_text(e.what(), 300) << " (see gradflow --help)\n";
    return gradflow::cli::kExitBadInput;
  }

  const std::string command = app.get_subcommands().front()->get_name();
  // Every error is one line; no exception leaves main (none ends in std::terminate).
  const auto fail = [&](const std::string& message, int code) {
    // terminal_text: a message that quotes a file's bytes never sends a control byte to the terminal.
    std::cerr << "gradflow " << command << ": error: " << gradflow::terminal_text(message) << "\n";
    return code;
  };
  try {
    if (command == "flow") return gradflow::cli::run_flow_command(flow);
    if (command == "descend") return gradflow::cli::run_descend_command(descend);
    if (command == "certify") return gradflow::cli::run_certify_command(certify);
    if (command == "probability") return gradflow::cli::run_probability_command(probability);
    if (command == "sweep") return gradflow::cli::run_sweep_command(sweep);
    if (command == "compare-inits") return gradflow::cli::run_compare_inits_command(compare);
  } catch (const gradflow::InputError& e) {
    return fail(e.what(), gradflow::cli::kExitBadInput);
  } catch (const std::bad_alloc&) {
    return fail(std::string("out of memory while ") + gradflow::cli::activity() +
                    " (the estimate was below the limit; lower the sizes or --threads)",
                gradflow::cli::kExitResources);
  } catch (const gradflow::IoError& e) {
    return fail(e.what(), gradflow::cli::kExitResources);
  } catch (const std::exception& e) {
    return fail(gradflow::quote_text(e.what(), 300), gradflow::cli::kExitRunFailed);
  } catch (...) {
    return fail("an unknown error", gradflow::cli::kExitRunFailed);
  }
  return gradflow::cli::kExitBadInput;
}

// Standard output is written through a buffer: a write that failed (a full disk under `> file`) is seen
// here at the latest, and is exit 3 with one line rather than a silent success. (A closed pipe never gets
// here: SIGPIPE ends the process first, below.)
int finish_standard_output(int code) {
  errno = 0;
  std::cout.flush();
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (flushed && std::cout.good() && !std::ferror(stdout)) return code;
  if (code != gradflow::cli::kExitSuccess && code != gradflow::cli::kExitRunFailed) return code;  // already told
  std::cerr << "gradflow: error: cannot write to standard output"
            << (!flushed && error != 0 ? std::string(": ") + std::strerror(error) : std::string()) << "\n";
  return gradflow::cli::kExitResources;
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) is a write error like a full disk: the write fails with EFBIG, the
  // command exits 3 naming the file and the cause, and the temporary is removed (SIGXFSZ's default would
  // kill the process and leave it behind).
  ::signal(SIGXFSZ, SIG_IGN);
  // A reader that goes away (`gradflow flow --out - | head -1`) ends the run as it ends any filter, by
  // SIGPIPE (status 141 in a shell) and without a message, once the handler has removed the temporaries;
  // also when the parent ignored SIGPIPE, so that the run does not go on writing to nobody.
  // (apps/support/output_file.hpp installs that handler with the first temporary.)
  ::signal(SIGPIPE, SIG_DFL);
  try {
    return finish_standard_output(run_main(argc, argv));
  } catch (const std::bad_alloc&) {
    std::cerr << "gradflow: error: out of memory while reading the command line\n";
    return gradflow::cli::kExitResources;
  } catch (const std::exception& e) {
    std::cerr << "gradflow: error: " << gradflow::quote_text(e.what(), 300) << "\n";
    return gradflow::cli::kExitRunFailed;
  }
}

// `gradflow sweep` (a grid from a TOML file) and `gradflow compare-inits` (the paper's comparison of the
// positive initialization with standard random ones, with defaults, also from flags).
#pragma once

#include <gradflow/experiments/compare_inits.hpp>
#include <gradflow/experiments/sweep_spec.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gradflow::cli {

struct SweepCommand {
  std::string config;
  std::string out;
  int threads = 0;
  bool quiet = false;
  bool no_plots = false;
  bool overwrite = false;
  bool keys = false;     // --keys: print the sweep file's keys and exit
  bool columns = false;  // --columns: print runs.csv's columns and exit
  std::string max_memory;
  std::vector<std::string> observe;  // --observe, as given (overrides the file's 'observe')
  std::string verdict_on;            // --verdict-on, when given (overrides the file's 'verdict-on')
  CLI::App* command = nullptr;
};

// compare-inits' flags fill spec (experiments/compare_inits.hpp), whose defaults are the command's and
// Python's; the list options are kept as given until they are parsed.
struct CompareInitsCommand {
  CompareInitsSpec spec;
  std::vector<std::string> inits;           // as given (apps/list_option.hpp); default: spec's
  std::vector<std::string> widths;          // as given; default: spec's
  std::vector<std::string> output_scale;    // --output-scale as given (default auto)
  long scale_path = 0;                      // --scale-path N, when given
  std::vector<std::string> condition_path;  // --condition-path, as given
  bool compare_whitened = false;            // --compare-whitened: the condition path 1,0
  std::string verdict_on{"work"};
  std::string synthetic = "16x32";
  std::string data;    // --data FILE (instead of --synthetic)
  std::string preset;  // --preset digits | breast-cancer
  bool standardize = false, scale_features = false, whiten = false;
  double eps = 1e-6;      // --eps, when given
  double loss_tol = 0.0;  // --loss-tol (absolute), when given
  std::string protocol{to_string(CompareInitsSpec{}.protocol)};
  std::string solver{to_string(Solver::dopri5)};
  double rtol = SweepSpec{}.rtol;    // --rtol, when given (flow protocol only)
  double atol = SweepSpec{}.atol;    // --atol, when given (flow protocol only)
  std::vector<std::string> lr_grid;  // as given; default: default_lr_grid()
  std::string activation{to_string(CompareInitsSpec{}.activation)};
  std::string config;
  int threads = 0;
  bool quiet = false;
  bool no_plots = false;
  bool overwrite = false;
  std::string max_memory;
  std::vector<std::string> observe;  // --observe, as given
  CLI::App* command = nullptr;
};

void add_sweep_command(CLI::App& app, SweepCommand& sweep);
int run_sweep_command(SweepCommand& sweep);
// Where compare-inits --preset NAME finds its file: $GRADFLOW_DATA_DIR, the folder ../share/gradflow/data
// next to the executable, the source tree's data/, the installed data folder, in that order. An
// InputError naming --preset and every place tried when none holds it.
std::string find_preset_file(const std::string& preset);

void add_compare_inits_command(CLI::App& app, CompareInitsCommand& compare);
int run_compare_inits_command(CompareInitsCommand& compare);

}  // namespace gradflow::cli

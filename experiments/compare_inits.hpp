/// @file
/// The paper's comparison as one spec: the positive initialization against standard random ones at the
/// same widths, trained by one protocol, on one data set (docs/theory.md §6.3). `gradflow compare-inits`
/// (its flags, or a config file) and `gradflow.compare_inits` (Python keyword arguments) both fill this
/// struct, whose defaults are theirs, call validate(), and run to_sweep() through the same runner
/// (experiments/sweep_runner.hpp): the same refusals, defaults and bits whichever way a user asks.
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/network_data.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// How every scheme is trained. The methods each one runs are protocol_methods().
enum class Protocol {
  armijo,       ///< descent with Armijo backtracking from lr
  tuned_fixed,  ///< descent with a fixed step lr = c / beta0 for each c of the grid; each scheme at its best c
  flow,         ///< the gradient flow with a solver
};

std::string_view to_string(Protocol protocol);  ///< "armijo", "tuned-fixed", "flow"
/// The protocol that to_string() spells `name`; empty for any other text.
std::optional<Protocol> protocol_from_string(std::string_view name);
/// Every protocol's name, in the enumeration's order: "armijo", "tuned-fixed", "flow".
const std::vector<std::string>& protocol_names();

/// The methods of a protocol (the sweep's methods): armijo, fixed (tuned over the grid), or the solver.
std::vector<Method> protocol_methods(Protocol protocol, Solver solver);

/// The default factors c of tuned-fixed: 0.25, 0.5, 1, 1.5, 1.9, 2.5, 4.
const std::vector<double>& default_lr_grid();

/// The settings of one comparison of initialization schemes; validate() checks them and to_sweep() turns
/// them into the sweep that runs it.
struct CompareInitsSpec {
  /// The schemes compared (the positive one against the others); each listed once.
  std::vector<InitScheme> inits{InitScheme::positive, InitScheme::xavier_normal, InitScheme::kaiming_normal,
                                InitScheme::lecun_normal, InitScheme::orthogonal};
  std::vector<long> widths{16, 32, 64};      ///< the hidden widths, each in [1, 100000], each listed once
  long seeds = 20;                           ///< a count: the seeds 0 .. seeds - 1; in [1, 1e7]
  long depth = 1;                            ///< hidden layers, in [1, 64]
  Activation activation = Activation::tanh;  ///< the activation of every hidden layer
  Protocol protocol = Protocol::armijo;      ///< how every scheme is trained (protocol_methods())
  std::optional<Solver> solver{};            ///< flow: the solver (empty: dopri5); only for the flow protocol
  std::optional<double> rtol{},  ///< flow: the solver's relative tolerance (empty: SweepSpec's, 1e-8); flow only
      atol{};                    ///< flow: the solver's absolute tolerance (empty: SweepSpec's, 1e-10); flow only
  double time_accuracy = 0.01;   ///< flow: the time to the target to this relative accuracy (0: off)
  std::optional<std::vector<double>> lr_grid{};  ///< tuned-fixed: the factors c (empty: default_lr_grid());
                                                 ///< only for tuned-fixed
  std::optional<double> eps{};                   ///< converged at loss <= eps L0 (empty: 1e-6); not with loss_tol
  std::optional<double> loss_tol{};              ///< converged at loss <= loss_tol (absolute) instead
  long max_steps = 20000;                        ///< budget per run: descent iterations or accepted flow steps
  double lr = 1.0;                               ///< armijo: the first trial step
  std::optional<double> output_scale{};          ///< positive: empty = auto (scale_margin x the certified threshold)
  double scale_margin = 1.05;                    ///< auto: the factor above the certified threshold s*, >= 1
  Preprocess preprocess = Preprocess::none;      ///< the inputs' transform (experiments/data_transform.hpp)
  bool teacher = false;                          ///< synthetic targets from a teacher network
  Observables observe{};                         ///< watched at each run's recorded rows
  DatasetSpec dataset{};              ///< synthetic:16x32 by default; a file (or Python's arrays, named "array")
  std::optional<NetworkData> data{};  ///< the data of a file data set, read by the caller
  std::string out = "results/compare-inits";  ///< the folder of the results (SweepSpec::out); not empty
  /// The paths and held-out points of docs/theory.md §6.5, as SweepSpec's fields of the same names.
  std::vector<ScaleChoice> output_scales{};  ///< the scale path (not with output_scale)
  double scale_start = 1.0,                  ///< a path's first scale, absolute (SweepSpec::scale_start), > 0
      scale_end = 4.0;                       ///< a path's last scale, as a factor of s* (SweepSpec::scale_end), > 0
  std::optional<long> scale_path{};          ///< N scales geometric from scale_start to scale_end x s* (to_sweep()
                                             ///< expands it); in [2, 1000], not with output_scale(s)
  std::vector<double> condition_path{};      ///< powers a
  bool compare_whitened = false;             ///< the condition path {1, 0}: raw and whitened (not with condition_path)
  double holdout = 0.0;                      ///< a fraction held out (0: none) ...
  std::uint64_t holdout_seed = 0;            ///< the seed of the held-out split (split_holdout())
  std::string test_data{};                   ///< ... or the held-out points of a file (read by the caller into test)
  std::optional<NetworkData> test{};         ///< the held-out points of test_data, read by the caller
  VerdictOn verdict_on = VerdictOn::work;    ///< what the verdict compares (a reading of the results)

  /// The first setting that is not valid, named as the member ("seeds", "lr_grid", "output_scale"; the
  /// command line flags it "--lr-grid", Python names the keyword), then the sweep's own validation of
  /// to_sweep() (duplicates, ranges: SweepSpec::validate, whose "depths" and "activations" are depth and
  /// activation here).
  std::optional<OptionError> validate() const;
  /// The sweep that runs the comparison: the grid inits x widths x seeds 0..seeds-1 at one depth and
  /// activation, the protocol's methods, the data set.
  SweepSpec to_sweep() const;
};

}  // namespace gradflow

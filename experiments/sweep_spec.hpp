/// @file
/// What a sweep runs: the grid (initialization schemes x widths x depths x activations x seeds x
/// methods x data sets) and the settings shared by every run, read from a TOML file or set by
/// compare-inits. Each run is named by its coordinates, and its seeds are derived from them, so results
/// do not depend on the order of execution or the thread count.
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/core/size_estimate.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/observables.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gradflow {

/// How a network is trained: gradient descent with a step rule, or the gradient flow with a solver.
struct Method {
  std::variant<StepRule, Solver> how = StepRule::armijo;  ///< the descent step rule, or the flow's solver

  /// Whether the method is gradient descent (how holds a step rule), not the flow.
  bool is_descent() const { return std::holds_alternative<StepRule>(how); }
  /// The step rule; std::bad_variant_access for a flow method.
  StepRule rule() const { return std::get<StepRule>(how); }
  /// The flow's solver; std::bad_variant_access for a descent method.
  Solver solver() const { return std::get<Solver>(how); }
  /// The step rule's or the solver's name: "armijo", "dopri5", ...
  std::string name() const;
  /// The method of a step rule's or a solver's name (the rules are tried first); empty for any other text.
  static std::optional<Method> from_string(std::string_view name);
  /// Equal when both hold the same step rule or the same solver.
  friend bool operator==(const Method&, const Method&) = default;
};

/// A data set of a sweep: synthetic (x_i ~ N(0, I/d), targets N(0, 1), data seed 0) or a CSV file as
/// --data reads it. The experiments never open a file: the caller reads every file data set into
/// SweepSpec::file_data before the sweep starts.
struct DatasetSpec {
  /// Where the data come from.
  enum class Kind {
    synthetic,  ///< generated: n samples of d features (see above)
    file        ///< read from path (by the caller, into SweepSpec::file_data)
  };
  Kind kind = Kind::synthetic;  ///< generated or read from a file
  long n = 16;                  ///< synthetic: samples
  long d = 32;                  ///< synthetic: features
  std::string path;             ///< file

  /// "synthetic:NxD" or "file:PATH", the spelling of sweep files and run keys.
  std::string name() const;
  /// Parses that spelling; empty when the text is neither form (or N, D are not integers >= 1).
  static std::optional<DatasetSpec> from_string(std::string_view text);
  /// Memberwise: the same kind, sizes and path.
  friend bool operator==(const DatasetSpec&, const DatasetSpec&) = default;
};

/// An output scale of the positive initialization on the scale path (docs/theory.md §6.5): a number
/// ("10"), "auto" (SweepSpec::scale_margin x the certified threshold s*), "Fx" (F x s*, e.g. "4x"), or
/// point k of a path of N scales geometric from SweepSpec::scale_start to SweepSpec::scale_end x s*
/// ("path:k/N", k = 0 .. N - 1; --scale-path N).
struct ScaleChoice {
  /// Which of the four spellings the choice is.
  enum class Kind {
    absolute,   ///< a number: value is the scale
    automatic,  ///< "auto": SweepSpec::scale_margin x s*
    certified,  ///< "Fx": value x s*
    path        ///< "path:k/N": entry index of count on the scale path
  };
  Kind kind = Kind::absolute;  ///< how the scale is given
  double value = 1.0;          ///< absolute: the scale; certified: F
  long index = 0,              ///< path: k, in [0, N)
      count = 0;               ///< path: N, the number of scales on the path (>= 2)
  std::string name() const;    ///< "10", "auto", "4x", "path:3/8" (the spelling of keys and runs.csv)
  /// "10", "auto", "4x" or "path:k/N"; empty for anything else (a number must be finite; SweepSpec::validate
  /// wants it > 0).
  static std::optional<ScaleChoice> from_string(std::string_view text);
  /// Whether the choice needs the certified threshold s*.
  bool needs_threshold() const { return kind != Kind::absolute; }
  /// The scale, given s* (ignored for a number), the margin of auto and the path's ends.
  double resolve(double threshold, double margin, double start, double end_factor) const;
  /// Memberwise: the same kind, value, index and count.
  friend bool operator==(const ScaleChoice&, const ScaleChoice&) = default;
};

/// What the verdict compares (--verdict-on; experiments/sweep_summary.hpp): the work (gradient evaluations
/// for descent, flow time x beta0 for the flow), the held-out mean squared error, or the held-out error
/// rate 1 - test_accuracy. Lower is better for each; the ratio is the scheme's median / positive's.
enum class VerdictOn {
  work,       ///< gradient evaluations (descent) or flow time x beta0 (flow) to the target
  test_loss,  ///< the held-out mean squared error
  test_error  ///< the held-out error rate 1 - test_accuracy
};
std::string_view to_string(VerdictOn on);  ///< "work", "test_loss", "test_error"
/// The VerdictOn that to_string() spells `name`; empty for any other text.
std::optional<VerdictOn> verdict_on_from_string(std::string_view name);

/// The entries path:0/N .. path:N-1/N of --scale-path N (N >= 2).
std::vector<ScaleChoice> scale_path(long count);

/// A list of output scales as the command line, the sweep file and Python take it (each item
/// ScaleChoice::from_string's): one number is the single output scale, one "auto" leaves it automatic,
/// anything else is the scale path; single and path are set accordingly. Returns the first item that is
/// none of these, or nothing.
std::optional<std::string> read_output_scales(const std::vector<std::string>& items, std::optional<double>& single,
                                              std::vector<ScaleChoice>& path);

/// How the inputs are transformed before training (experiments/data_transform.hpp).
enum class Preprocess {
  none,         ///< the inputs as given
  standardize,  ///< features and targets to mean 0 and standard deviation 1
  scale,        ///< each feature divided by its root mean square
  whiten        ///< ZCA whitening in sample space, X X^T = I
};
std::string_view to_string(Preprocess p);  ///< "none", "standardize", "scale", "whiten"
/// The Preprocess that to_string() spells `name`; empty for any other text.
std::optional<Preprocess> preprocess_from_string(std::string_view name);

/// A sweep: the lists whose product is the grid of runs (enumerate_runs()) and the settings every run
/// shares. Each of the grid's seven lists must be non-empty and name each item once (validate()).
struct SweepSpec {
  std::vector<InitScheme> inits{InitScheme::positive, InitScheme::xavier_normal};  ///< initialization schemes
  std::vector<long> widths{32};                           ///< hidden widths, each in [1, 100000]
  std::vector<long> depths{1};                            ///< hidden layers, each in [1, 64]
  std::vector<Activation> activations{Activation::tanh};  ///< the hidden layers' activations
  std::vector<long> seeds{0, 1, 2, 3, 4};  ///< seeds, each >= 0 (the runs' initialization seeds derive from them)
  std::vector<Method> methods{Method{StepRule::armijo}};  ///< descent step rules and flow solvers
  std::vector<DatasetSpec> datasets{DatasetSpec{}};       ///< data sets (default: synthetic:16x32)
  double eps = 1e-6;                         ///< a run converges when loss <= eps L0 (relative to each run's own L0)
  std::optional<double> loss_tol;            ///< when set: converged at loss <= loss_tol (absolute; eps is then unused)
  long max_steps = 5000;                     ///< budget: descent iterations, or accepted flow steps
  double t_end = 1e6;                        ///< flow methods: end time
  double rtol = 1e-8;                        ///< flow methods: the solver's tolerances (FlowOptions's defaults);
  double atol = 1e-10;                       ///< rtol in [tolerances::kMinRelativeTolerance, 1), atol finite > 0
  double time_accuracy = 0.01;               ///< flow methods: the time to the target to this relative accuracy
                                             ///< (TrialSpec::time_accuracy); 0 = off; in [0, 0.5)
  double lr = 1.0;                           ///< fixed: the step; armijo: the first trial step
  double gamma = 0.0;                        ///< polyak: 0 = 2 mu / beta is not available for networks, so required
  std::optional<double> output_scale;        ///< positive: empty = auto (scale_margin times the smallest certified
                                             ///< scale for the method: the descent threshold for descent, the flow
                                             ///< threshold for the flow); others use 1
  double scale_margin = 1.05;                ///< auto: the factor above the threshold, >= 1
  std::vector<double> lr_grid;               ///< tuned-fixed: the 'fixed' method runs once per c with lr = c / beta0
  Preprocess preprocess = Preprocess::none;  ///< applied to every data set's inputs
  bool teacher = false;                      ///< synthetic targets from a teacher network
  int curve_points = 200;                    ///< rows kept per run for the plots
  Observables observe;                       ///< watched at each run's recorded rows (runs.csv, curves/)
  std::string out = "results/sweep";         ///< the folder the command line writes the results to; not empty
  /// The data of every file data set, by DatasetSpec::name(), read by the caller.
  std::map<std::string, NetworkData> file_data;
  /// The scale path (docs/theory.md §6.5): when not empty, the positive scheme runs once per entry (and
  /// output_scale is not used); the other schemes run once, at scale 1. scale_start and scale_end: the
  /// ends of a "path:k/N" entry, scale_start to scale_end x s*.
  std::vector<ScaleChoice> output_scales;
  double scale_start = 1.0;  ///< path:0/N's scale, absolute; finite > 0
  double scale_end = 4.0;    ///< path:N-1/N's scale as a factor of s*; finite > 0
  /// The conditioning path: when not empty, every run of the grid is repeated on the inputs X -> U S^a V^T
  /// for each power a listed (after preprocess; experiments/data_transform.hpp); 1 is the raw inputs,
  /// 0 their whitening.
  std::vector<double> condition_path;
  /// Held-out points (experiments/held_out.hpp): a fraction of each data set held out by a split seeded
  /// with holdout_seed (0: none), or the points of test_data (a CSV file as --data reads it, read by the
  /// caller into test_file; one data set only). Not both. The inputs' transform is fitted on the
  /// training points and applied to the held-out ones.
  double holdout = 0.0;
  std::uint64_t holdout_seed = 0;        ///< the seed of the held-out split (split_holdout())
  std::string test_data;                 ///< the held-out points' CSV file, as given (empty: none)
  std::optional<NetworkData> test_file;  ///< the points of test_data, read by the caller
  /// What the verdict compares (a reading of the results: it changes no run).
  VerdictOn verdict_on = VerdictOn::work;

  /// The first setting that is not valid, named as the member ("widths", "lr_grid", "output_scale";
  /// the sweep file spells it with '-', the command line with "--"): an empty list, an item listed twice
  /// (each item is one slice of the grid: a duplicate would run and count the same runs twice), a number
  /// out of its range or not finite, a file data set not read, polyak without gamma, lr_grid without the
  /// fixed method.
  std::optional<OptionError> validate() const;
};

/// One run of the grid.
struct RunSpec {
  InitScheme init = InitScheme::positive;    ///< the initialization scheme
  long width = 0;                            ///< the hidden width
  long depth = 0;                            ///< the number of hidden layers
  Activation activation = Activation::tanh;  ///< the hidden layers' activation
  long seed = 0;                             ///< the grid's seed (init_seed() derives the initialization's from it)
  Method method;                             ///< the descent step rule or the flow solver
  DatasetSpec dataset;                       ///< the data set
  double lr_c = 0.0;                         ///< tuned-fixed: lr = lr_c / beta0 (0: not tuned, lr = SweepSpec::lr)
  std::optional<ScaleChoice> scale{};  ///< positive on the scale path: its output scale (SweepSpec::output_scales)
  std::optional<double> power{};       ///< the conditioning path's power a (SweepSpec::condition_path)
  /// "init=...;width=...;..." (unique per run; ";scale=..." and ";power=..." only on those paths, so the
  /// keys of a sweep without them are unchanged).
  std::string key() const;
  /// From the coordinates except the method (methods share inits); a file data set by its file name,
  /// not its folder, so that results do not depend on where the data lives.
  std::uint64_t init_seed() const;
};

/// Every run of the grid, nested in this order (outermost first): data sets, conditioning powers, methods,
/// activations, depths, widths, schemes (positive once per entry of the scale path), seeds, and for the
/// fixed method with an lr_grid each factor c.
std::vector<RunSpec> enumerate_runs(const SweepSpec& spec);

/// The tolerance as the summaries state it: "loss <= 1e-06 L0 (relative)" or "loss <= 0.001 (absolute)".
std::string tolerance_label(const SweepSpec& spec);

/// The 64-bit FNV-1a hash of the text's bytes (the same on every machine): derives seeds from names.
std::uint64_t fnv1a(const std::string& text);

/// The memory a sweep needs, for the checks against the limit before anything runs: the grid (every
/// run's spec, record and key, a few times over: the plan, the records, the sort; saturated past 2^64
/// runs, an estimate past any limit), and one run of the largest network (its data, activations and
/// parameters, its curve points, the observation's Lanczos bases and Gram matrices, and the flow's rows,
/// kept for the observations at every accepted step). A sweep on T threads needs T runs at once.
std::uint64_t sweep_run_count(const SweepSpec& spec);  ///< UINT64_MAX when it overflows
/// The grid's memory: 2048 bytes per run of sweep_run_count() (overflowed when the count overflows).
SizeEstimate sweep_grid_memory(const SweepSpec& spec);
/// One run of the largest network, as listed above: the largest n and d of the data sets, depth and width.
SizeEstimate sweep_run_memory(const SweepSpec& spec);

}  // namespace gradflow

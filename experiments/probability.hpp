/// @file
/// The probabilistic corollary, estimated by Monte Carlo (docs/theory.md §6): over N seeded draws of
/// an initialization scheme, the fraction of draws at which the certificate holds (a rigorous check at
/// each draw) and the fraction at which gradient descent empirically reaches loss <= eps L0 within K
/// steps, each with a Clopper-Pearson interval. The certified fraction estimates the probability that
/// an initialization satisfies a sufficient condition for linear convergence of the flow; it is NOT a
/// bound on the fraction that converges within a budget of K descent steps: a certified draw can need
/// far more than K steps (measured: 38 of 40 certified, 0 of 40 converged within the budget).
///
/// Draws run in parallel; draw j uses the initialization seed derive_seed(seed, j) and its own copy of
/// the network, so the result does not depend on the thread count or the order of execution.
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/theory/clopper_pearson.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// The settings of estimate_probability(): the number of draws, the confidence, the target and the descent
/// each draw runs.
struct ProbabilityOptions {
  long draws = 100;                ///< N, in [1, 1e7]
  double alpha = 0.05;             ///< 1 - confidence level, in (0, 1)
  double eps = 1e-6;               ///< success: loss <= eps L0 (relative to each draw's L0); in (0, 1)
  std::optional<double> loss_tol;  ///< when set: success at loss <= loss_tol (absolute), > 0; eps unused
  long steps = 1000;               ///< K >= 1 descent steps per draw
  /// The step rule (stop.max_steps, the tolerances and save.every_steps are set per draw from steps and
  /// eps: their values here are not used). The default: armijo from lr = 1, the command line's and
  /// Python's default.
  DescentOptions descent{.step = StepRule::armijo, .lr = 1.0};
  int threads = 0;  ///< worker threads, >= 0; 0 = all cores

  /// The first invalid field, named as its member ("draws", "alpha", "eps", "steps", "threads"). The
  /// descent options are checked by DescentOptions::validate as every draw runs them (with the per-draw
  /// fields set), and their field is prefixed with "descent." ("descent.lr").
  std::optional<OptionError> validate() const;
};

/// What one draw of estimate_probability() found: its certificate at theta0 and its descent's outcome.
struct DrawResult {
  long draw = 0;                ///< the draw's index j, in [0, N)
  std::uint64_t init_seed = 0;  ///< the initialization's seed, derive_seed(InitOptions::seed, j)
  bool certified = false;       ///< the flow certificate holds at this draw
  double sigma0 = 0.0;          ///< sigma_n(J(theta0)) of the draw's certificate
  double mu = 0.0;              ///< certified mu (0 when not certified)
  double loss0 = 0.0;           ///< the loss L0 at the draw's theta0
  bool reached = false;         ///< descent reached the target (eps L0, or loss_tol) within K steps
  long iterations = 0;          ///< the descent iterations run (at most K)
  double loss_final = 0.0;      ///< the loss after the last iteration
};

/// The estimate of estimate_probability(): every draw, the counts and their Clopper-Pearson intervals.
struct ProbabilityResult {
  /// not_run; invalid_options (message from ProbabilityOptions::validate, nothing was run); or
  /// reached_max_iters: every one of the N draws was run (the estimate's budget, as max_iters is
  /// descent's; whether each draw's descent converged is in the draws and the counts); or interrupted:
  /// the caller's cancellation check (core/cancellation.hpp) stopped it, and draws, the counts and the
  /// intervals hold only the draws that finished (the intervals stay [0, 1] when none did).
  Status status = Status::not_run;
  std::string message;                ///< the status in words: the invalid option, all draws run, or how many ran
  std::vector<DrawResult> draws;      ///< by draw index (interrupted: only the finished draws)
  long certified = 0;                 ///< the draws at which the certificate holds
  long reached = 0;                   ///< the draws whose descent reached the target within K steps
  Interval certified_interval;        ///< the certified fraction's Clopper-Pearson interval, confidence 1 - alpha
  Interval reached_interval;          ///< the reached fraction's Clopper-Pearson interval, confidence 1 - alpha
  std::string why_not_applicable;     ///< the certificate does not apply to this problem at all (then certified = 0)
  int threads_used = 1;               ///< the worker threads that ran the draws
  std::vector<std::string> warnings;  ///< threads capped or not created (experiments/thread_pool.hpp)
  double wall_seconds = 0.0;          ///< the estimate's wall time, in seconds

  /// gradflow::succeeded(status): true when every draw ran (reached_max_iters).
  bool succeeded() const { return gradflow::succeeded(status); }
};

struct TrialSpec;
/// The trial of a draw (experiments/trial.hpp): init with the draw's seed, descent from options.
TrialSpec draw_trial(const ProbabilityOptions& options, const InitOptions& init, std::uint64_t seed);

/// Invalid options give Status::invalid_options and run nothing. progress (may be null) is increased
/// by one after each finished draw. warn (may be empty) receives each warning about the threads as it
/// happens (a count above 4x the cores is capped; a thread that cannot be created is done without).
ProbabilityResult estimate_probability(const Mlp& network, const InitOptions& init, const ProbabilityOptions& options,
                                       std::atomic<long>* progress = nullptr,
                                       const std::function<void(const std::string&)>& warn = {});

}  // namespace gradflow

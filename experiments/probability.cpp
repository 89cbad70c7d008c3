#include <gradflow/experiments/probability.hpp>

#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/trial.hpp>
#include <gradflow/theory/certificate.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace gradflow {
namespace {

constexpr long kMaxDraws = 10000000;

// The descent options of a draw whose initial loss is loss0: K steps, stopping at loss <= eps L0.
DescentOptions descent_for_draw(const ProbabilityOptions& options, double loss0) {
  DescentOptions descent = options.descent;
  descent.stop.max_steps = options.steps;
  descent.stop.loss_tol = options.loss_tol ? *options.loss_tol : options.eps * loss0;
  descent.stop.grad_tol = 0.0;
  descent.save.every_steps = options.steps;
  return descent;
}

}  // namespace

TrialSpec draw_trial(const ProbabilityOptions& options, const InitOptions& init, std::uint64_t seed) {
  TrialSpec trial;
  trial.init = init;
  trial.init.seed = seed;
  trial.method = Method{options.descent.step};
  trial.eps = options.eps;
  trial.loss_tol = options.loss_tol;
  trial.max_steps = options.steps;
  trial.lr = options.descent.lr;
  trial.gamma = options.descent.gamma;
  trial.descent = options.descent;
  trial.measure_beta0 = false;
  trial.curve_points = 0;
  return trial;
}

std::optional<OptionError> ProbabilityOptions::validate() const {
  if (draws < 1 || draws > kMaxDraws) return OptionError{"draws", std::to_string(draws), "must be in [1, 1e7]"};
  if (!(alpha > 0.0 && alpha < 1.0)) return OptionError{"alpha", full_precision(alpha), "must be in (0, 1)"};
  if (!(eps > 0.0 && eps < 1.0)) return OptionError{"eps", full_precision(eps), "must be in (0, 1)"};
  if (loss_tol && !(*loss_tol > 0.0 && std::isfinite(*loss_tol)))
    return OptionError{"loss_tol", full_precision(*loss_tol), "must be a finite number > 0"};
  if (steps < 1) return OptionError{"steps", std::to_string(steps), "must be >= 1"};
  if (threads < 0) return OptionError{"threads", std::to_string(threads), "must be >= 0"};
  // As the draws run them; L0 = 1 stands for a draw's initial loss (loss_tol = eps L0 is then valid).
  if (auto error = descent_for_draw(*this, 1.0).validate()) {
    error->field = "descent." + error->field;
    return error;
  }
  return std::nullopt;
}

ProbabilityResult estimate_probability(const Mlp& network, const InitOptions& init, const ProbabilityOptions& options,
                                       std::atomic<long>* progress,
                                       const std::function<void(const std::string&)>& warn) {
  ProbabilityResult result;
  if (const auto error = options.validate()) {
    result.status = Status::invalid_options;
    result.message = error->message();
    return result;
  }
  const auto start = std::chrono::steady_clock::now();
  result.draws.resize(static_cast<std::size_t>(options.draws));
  const auto report = [&](const std::string& warning) {
    result.warnings.push_back(warning);
    if (warn) warn(warning);
  };
  const ThreadPlan plan = plan_threads(options.threads, options.draws);
  if (!plan.warning.empty()) report(plan.warning);
  std::vector<char> completed(result.draws.size(), 0);  // neither skipped nor interrupted
  CancellationGroup group;
  const auto body = [&](long j) {
    const CancellationGroup::Member member(group);
    if (cancellation_requested()) return;  // a draw not started
    const Mlp local = network;             // each draw evaluates its own copy (the network keeps scratch space)
    DrawResult& draw = result.draws[static_cast<std::size_t>(j)];
    draw.draw = j;
    draw.init_seed = derive_seed(init.seed, static_cast<std::uint64_t>(j));
    TrialResult trial;
    try {
      trial = run_trial(local, draw_trial(options, init, draw.init_seed));
    } catch (const Cancelled&) {
      group.cancel();  // stopped inside its certificate: not a finished draw
      return;
    }
    if (trial.status == Status::interrupted) return;
    completed[static_cast<std::size_t>(j)] = 1;
    draw.certified = trial.certificate.applies && trial.certificate.holds;
    draw.sigma0 = trial.certificate.sigma0;
    draw.mu = draw.certified ? trial.certificate.mu : 0.0;
    draw.loss0 = trial.loss0;
    draw.reached = trial.reached;
    draw.iterations = trial.steps;
    draw.loss_final = trial.final_loss;
    if (progress) ++*progress;
  };
  result.threads_used =
      run_watched(group, [&] { return parallel_for(options.draws, plan.threads, body, report); }).threads;
  if (group.cancelled()) {
    std::vector<DrawResult> kept;
    for (std::size_t j = 0; j < result.draws.size(); ++j)
      if (completed[j]) kept.push_back(result.draws[j]);
    result.draws = std::move(kept);
  }

  for (const DrawResult& draw : result.draws) {
    result.certified += draw.certified ? 1 : 0;
    result.reached += draw.reached ? 1 : 0;
  }
  const long ran = static_cast<long>(result.draws.size());
  if (ran > 0) {
    result.certified_interval = clopper_pearson(result.certified, ran, options.alpha);
    result.reached_interval = clopper_pearson(result.reached, ran, options.alpha);
  }
  if (ran < options.draws) {
    result.status = Status::interrupted;
    result.message = "interrupted after " + std::to_string(ran) + " of " + std::to_string(options.draws) +
                     " draws (the cancellation check asked to stop); the counts and intervals are those of the " +
                     std::to_string(ran) + " finished draws";
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
  try {
    const Certificate probe = certify(network, initialize(network.architecture(), init));
    if (!probe.applies) result.why_not_applicable = probe.why_not;
  } catch (const Cancelled&) {
    // Asked to stop after the last draw: the draws are whole; only this one remark is left out.
  }
  result.status = Status::reached_max_iters;
  result.message = "ran all " + std::to_string(options.draws) + " draws";
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace gradflow

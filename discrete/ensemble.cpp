#include <gradflow/discrete/ensemble.hpp>

#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>

#include <stdexcept>

namespace gradflow {
namespace {

template <class Result, class RunOne>
std::vector<Result> run_many(const Objective& objective, const Matrix& starts, int threads, EnsembleOutcome* outcome,
                             RunOne run_one) {
  if (starts.cols() != objective.dimension()) {
    throw std::invalid_argument("starts: each row must have p = " + std::to_string(objective.dimension()) +
                                " entries (the objective's dimension), got " + std::to_string(starts.cols()));
  }
  if (threads < 0) throw std::invalid_argument("threads = " + std::to_string(threads) + ": must be >= 0");
  const long k = static_cast<long>(starts.rows());
  std::vector<Result> results(static_cast<std::size_t>(k));
  CancellationGroup group;
  const auto body = [&](long i) {
    const CancellationGroup::Member member(group);
    Result& r = results[static_cast<std::size_t>(i)];
    const Vector start = starts.row(i).transpose();
    if (cancellation_requested()) {  // not started
      r.status = Status::interrupted;
      r.message = "not started (the cancellation check asked to stop)";
      r.theta = start;
      return;
    }
    r = run_one(start);
  };
  const ThreadPlan plan = plan_threads(threads, k);
  std::string warning = plan.warning;
  const PoolOutcome pool = run_watched(group, [&] { return parallel_for(k, plan.threads, body); });
  if (!pool.warning.empty()) warning += (warning.empty() ? "" : "; ") + pool.warning;
  if (outcome) *outcome = EnsembleOutcome{pool.threads, warning};
  return results;
}

}  // namespace

std::vector<FlowResult> simulate_flows(const Objective& objective, const Matrix& starts, const FlowOptions& options,
                                       int threads, EnsembleOutcome* outcome) {
  return run_many<FlowResult>(objective, starts, threads, outcome,
                              [&](const Vector& start) { return simulate_flow(objective, start, options); });
}

std::vector<DescentResult> descend_many(const Objective& objective, const Matrix& starts, const DescentOptions& options,
                                        int threads, EnsembleOutcome* outcome) {
  return run_many<DescentResult>(objective, starts, threads, outcome,
                                 [&](const Vector& start) { return descend(objective, start, options); });
}

}  // namespace gradflow

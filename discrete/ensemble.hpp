/// @file
/// Many runs of one objective from many starts at once: the flow (simulate_flow) or descent (descend)
/// from each row of a k x p matrix, spread over the threads of the process's pool (core/thread_pool.hpp).
/// Each run is exactly the run alone (same options, same bits: runs share nothing but the objective, whose
/// const members are safe from several threads, core/objective.hpp), so the ensemble is k separate calls
/// made faster. A seed sweep or a probability estimate from Python runs through it.
///
/// Cancellation (core/cancellation.hpp): once the caller's check says stop, the runs in progress end
/// with Status::interrupted at their next step and those not started are returned with status interrupted
/// and message "not started", theta = their start.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/result.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/result.hpp>

#include <string>
#include <vector>

namespace gradflow {

/// What an ensemble call reports besides its results (optional out-parameter of simulate_flows() and
/// descend_many()).
struct EnsembleOutcome {
  int threads = 1;      ///< the threads that ran (fewer than asked when the system refused some)
  std::string warning;  ///< why fewer, or ""
};

/// The flow from each row of starts (k x p, p = objective.dimension()); options as for simulate_flow.
/// threads: 0 = all cores. Throws std::invalid_argument (naming starts) on a dimension mismatch.
std::vector<FlowResult> simulate_flows(const Objective& objective, const Matrix& starts, const FlowOptions& options,
                                       int threads = 0, EnsembleOutcome* outcome = nullptr);
/// Descent from each row of starts; options as for descend.
std::vector<DescentResult> descend_many(const Objective& objective, const Matrix& starts, const DescentOptions& options,
                                        int threads = 0, EnsembleOutcome* outcome = nullptr);

}  // namespace gradflow

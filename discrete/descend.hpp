// Entry point: gradient descent theta_{k+1} = theta_k - eta_k grad L(theta_k) from theta0, with the
// step-size rule of options.step, compared at every iteration with the rule's guaranteed contraction
// L_k - L_min <= q^k (L0 - L_min) and containment radius (docs/theory.md §2).
//
//   gradflow::DescentOptions options;
//   options.step = gradflow::StepRule::inverse_smoothness;
//   gradflow::DescentResult result = gradflow::descend(problem, theta0, options);
//
// A step costs one gradient evaluation (Armijo adds one loss evaluation per trial) and allocates
// nothing. Divergence (a non-finite value, or the loss above divergence_factor times L0) is
// Status::diverged with the last finite iterate and the offending step size in the message. Invalid
// options give Status::invalid_options. Only a contract violation throws std::invalid_argument:
// theta0 of the wrong dimension or with a non-finite entry.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/result.hpp>

namespace gradflow {

DescentResult descend(const Objective& objective, const Vector& theta0, const DescentOptions& options,
                      const DescentObserver& observer = {});

}  // namespace gradflow

/// @file
/// gradflow: gradient flows and gradient descent, checked against Polyak-Lojasiewicz convergence theory.
/// The umbrella header of the installed library: #include <gradflow/gradflow.hpp>.
#pragma once

// core/: the objective interface and what every layer shares.
#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/option_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>

// problems/: the problem families.
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>

// theory/: the certificate and the constants the theorems need.
#include <gradflow/theory/certificate.hpp>
#include <gradflow/theory/clopper_pearson.hpp>
#include <gradflow/theory/lanczos.hpp>
#include <gradflow/theory/observables.hpp>
#include <gradflow/theory/power_iteration.hpp>

// flow/: gradient flow.
#include <gradflow/flow/dense_output.hpp>
#include <gradflow/flow/gradient_flow_field.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/result.hpp>
#include <gradflow/flow/row.hpp>
#include <gradflow/flow/simulate_flow.hpp>

// discrete/: gradient descent and its step rules.
#include <gradflow/discrete/against_flow.hpp>
#include <gradflow/discrete/armijo_step.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/fixed_step.hpp>
#include <gradflow/discrete/inverse_smoothness_step.hpp>
#include <gradflow/discrete/modified_flow.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/polyak_step.hpp>
#include <gradflow/discrete/result.hpp>
#include <gradflow/discrete/run_guarantee.hpp>
#include <gradflow/discrete/step_rule.hpp>

// experiments/: Monte Carlo estimates and sweeps over initializations.
#include <gradflow/experiments/bootstrap.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/probability.hpp>
#include <gradflow/experiments/trial.hpp>

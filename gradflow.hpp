// gradflow: gradient flows and gradient descent, checked against Polyak-Lojasiewicz convergence theory.
// The umbrella header of the installed library: #include <gradflow/gradflow.hpp>.
#pragma once

#include "problems/counting_objective.hpp"
#include "problems/csv.hpp"
#include "problems/input_error.hpp"
#include "problems/karimi.hpp"
#include "problems/least_squares.hpp"
#include "problems/objective.hpp"
#include "problems/problem_factory.hpp"
#include "problems/quadratic.hpp"
#include "problems/random.hpp"
#include "problems/rosenbrock.hpp"
#include "flow/gradient_flow_field.hpp"
#include "flow/options.hpp"
#include "flow/result.hpp"
#include "flow/simulate_flow.hpp"
#include "flow/stats.hpp"
#include "flow/status.hpp"

// Pieces of one trial shared by the protocols: the sharpness at the initial point that the
// tuned-fixed protocol divides its step factor by (lr = c / beta0) and the flow protocol multiplies its
// time by (t x beta0, comparable across output scales).
#pragma once

#include <gradflow/core/objective.hpp>

#include <cstdint>

namespace gradflow {

// beta0 = the largest |eigenvalue| of the Hessian at theta0, by power iteration on the objective's
// Hessian-vector products from a seeded start (theory/power_iteration.hpp): an estimate, exact for a
// quadratic up to the iteration's tolerance.
double initial_sharpness(const Objective& objective, const Vector& theta0, std::uint64_t seed);

}  // namespace gradflow

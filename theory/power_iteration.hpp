/// @file
/// An estimate of the smoothness constant beta at a point: the largest |eigenvalue| of the Hessian at
/// theta, by power iteration on Hessian-vector products from a seeded random start.
///
/// This is local information at one point, not a bound on the Hessian elsewhere; results built on it
/// are labelled as estimates.
#pragma once

#include <gradflow/core/objective.hpp>

#include <cstdint>

namespace gradflow {

struct SmoothnessEstimate {
  double beta = 0.0;
  int iterations = 0;
  bool converged = false;  ///< relative change below rtol
};

SmoothnessEstimate estimate_smoothness(const Objective& objective, const Vector& theta, std::uint64_t seed,
                                       int max_iterations = 500, double rtol = 1e-8);

}  // namespace gradflow

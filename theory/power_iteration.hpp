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

/// The result of estimate_smoothness().
struct SmoothnessEstimate {
  double beta = 0.0;       ///< ||H v|| for the last unit iterate v: the estimate of the largest |eigenvalue|
  int iterations = 0;      ///< Hessian-vector products made
  bool converged = false;  ///< relative change below rtol
};

/// Power iteration on objective.hessian_vector() at theta from a random unit start seeded by seed; stops when
/// successive estimates differ by at most rtol relative, or after max_iterations products.
SmoothnessEstimate estimate_smoothness(const Objective& objective, const Vector& theta, std::uint64_t seed,
                                       int max_iterations = 500, double rtol = 1e-8);

}  // namespace gradflow

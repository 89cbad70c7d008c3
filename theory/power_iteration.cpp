#include <gradflow/theory/power_iteration.hpp>

#include <gradflow/core/random.hpp>

#include <cmath>

namespace gradflow {

SmoothnessEstimate estimate_smoothness(const Objective& objective, const Vector& theta, std::uint64_t seed,
                                       int max_iterations, double rtol) {
  SmoothnessEstimate estimate;
  Random random(derive_seed(seed, 2));
  Vector v = random.normal_vector(objective.dimension());
  v.normalize();
  Vector hv(objective.dimension());
  double previous = 0.0;
  for (int i = 1; i <= max_iterations; ++i) {
    objective.hessian_vector(theta, v, hv);
    const double norm = hv.norm();
    estimate.iterations = i;
    if (!(norm > 0.0) || !std::isfinite(norm)) {
      estimate.beta = std::isfinite(norm) ? 0.0 : norm;
      estimate.converged = std::isfinite(norm);
      return estimate;
    }
    v = hv / norm;
    estimate.beta = norm;
    if (i > 1 && std::abs(norm - previous) <= rtol * norm) {
      estimate.converged = true;
      return estimate;
    }
    previous = norm;
  }
  return estimate;
}

}  // namespace gradflow

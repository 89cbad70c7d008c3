#include <gradflow/experiments/trial.hpp>

#include <gradflow/core/tolerances.hpp>
#include <gradflow/theory/power_iteration.hpp>

namespace gradflow {

double initial_sharpness(const Objective& objective, const Vector& theta0, std::uint64_t seed) {
  return estimate_smoothness(objective, theta0, seed, tolerances::kSampledSmoothnessIterations,
                             tolerances::kSampledSmoothnessRtol)
      .beta;
}

}  // namespace gradflow

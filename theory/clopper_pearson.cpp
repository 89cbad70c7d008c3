#include <gradflow/theory/clopper_pearson.hpp>

#include <boost/math/special_functions/beta.hpp>

#include <stdexcept>

namespace gradflow {

Interval clopper_pearson(long k, long n, double alpha) {
  if (n < 1 || k < 0 || k > n) throw std::invalid_argument("clopper_pearson(): need 0 <= k <= n and n >= 1");
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("clopper_pearson(): alpha must be in (0, 1)");
  Interval interval;
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  interval.lower = k == 0 ? 0.0 : boost::math::ibeta_inv(kd, nd - kd + 1.0, alpha / 2.0);
  interval.upper = k == n ? 1.0 : boost::math::ibeta_inv(kd + 1.0, nd - kd, 1.0 - alpha / 2.0);
  return interval;
}

}  // namespace gradflow

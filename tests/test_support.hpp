// Helpers shared by the tests: seeded random matrices and relative errors.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/random.hpp>

#include <Eigen/QR>

#include <cmath>

namespace gradflow::test {

inline double relative_error(const Vector& x, const Vector& reference) {
  return (x - reference).norm() / reference.norm();
}

// Q diag(eigenvalues) Q^T with a seeded random orthogonal Q.
inline Matrix spd_matrix(const Vector& eigenvalues, std::uint64_t seed) {
  Random random(seed);
  const Eigen::HouseholderQR<Matrix> qr(random.normal_matrix(eigenvalues.size(), eigenvalues.size()));
  const Matrix q = qr.householderQ();
  Matrix a = q * eigenvalues.asDiagonal() * q.transpose();
  return 0.5 * (a + a.transpose());
}

// Central-difference gradient of the loss, for checking analytic gradients.
inline Vector numerical_gradient(const Objective& f, const Vector& theta, double h = 1e-6) {
  Vector g(theta.size());
  Vector x = theta;
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const double step = h * (1.0 + std::abs(theta[i]));
    x[i] = theta[i] + step;
    const double up = f.loss(x);
    x[i] = theta[i] - step;
    const double down = f.loss(x);
    x[i] = theta[i];
    g[i] = (up - down) / (2.0 * step);
  }
  return g;
}

}  // namespace gradflow::test

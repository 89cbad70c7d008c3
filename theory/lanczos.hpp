/// @file
/// The extreme eigenvalues of a symmetric operator given only by its products v -> A v: the Lanczos
/// method with full reorthogonalization (after the three-term recurrence every new vector is
/// orthogonalized against all the previous ones, a second time when the first pass removed much of it,
/// so that no spurious copies of converged eigenvalues appear; affordable because the Krylov spaces
/// used here have at most a few hundred vectors).
///
/// After k products, the Ritz values of the k x k tridiagonal matrix T_k = Q_k^T A Q_k lie inside
/// [lambda_min(A), lambda_max(A)] (Rayleigh-Ritz): the largest is a lower estimate of lambda_max, the
/// smallest an upper estimate of lambda_min. The residual of a Ritz pair (theta, y) is
/// ||A y - theta y|| = beta_k |s_k|, s the eigenvector of T_k; the run stops when the wanted extremes
/// have residuals <= rtol max(|theta_min|, |theta_max|). An eigenvalue of A whose eigenvector has no
/// component in the Krylov space cannot be seen: the values are estimates, and are labelled so
/// (docs/theory.md §8). A breakdown (an invariant subspace) before min_iterations continues from a
/// seeded random vector orthogonal to the space, so that a start vector lying in a few eigen-directions
/// does not stop the search there.
#pragma once

#include <gradflow/core/objective.hpp>

#include <cstdint>
#include <functional>

namespace gradflow {

/// What lanczos_extremes() converges and when it stops.
struct LanczosOptions {
  bool want_min = true;    ///< converge the smallest eigenvalue
  bool want_max = true;    ///< converge the largest eigenvalue
  int max_iterations = 0;  ///< products at most; 0 = the dimension (capped at 500)
  int min_iterations = 1;  ///< products at least (capped at the dimension) before convergence is checked
  double rtol = 1e-8;      ///< residual tolerance relative to the largest |Ritz value|
  std::uint64_t seed = 0;  ///< of the random vectors after a breakdown (and of the start when it is zero)
};

/// The extreme Ritz values of a Lanczos run, their Ritz vectors and residuals.
struct LanczosResult {
  double min = 0.0;           ///< the smallest Ritz value (an upper estimate of lambda_min)
  double max = 0.0;           ///< the largest Ritz value (a lower estimate of lambda_max)
  Vector v_min;               ///< their Ritz vectors, unit norm (a warm start for the next call); empty when not wanted
  Vector v_max;               ///< Ritz vector of max, unit norm; empty when not wanted
  double residual_min = 0.0;  ///< ||A v - theta v|| of each
  double residual_max = 0.0;  ///< ||A v - theta v|| of the largest Ritz pair
  int products = 0;           ///< products A v made
  bool converged = false;     ///< the wanted residuals met rtol, or the space reached dimension n (exact)
};

/// Storage that a caller making many runs of one size keeps between them (PathObserver does, one run
/// per row): the basis and the scratch vectors are then allocated once, not at every run (at p = 1e5 a
/// fresh basis of 30 vectors is 24 MB of new pages).
struct LanczosWorkspace {
  Matrix q;  ///< the basis, n x (at least the products made)
  /// w: the product A q_k, then the next Lanczos vector before normalization (n entries).
  Vector w, qk, c;  ///< c: the Gram-Schmidt coefficients of the reorthogonalization (sized to the iteration cap)
  /// @var qk
  /// A copy of the current Lanczos vector q_k (n entries).
};

/// apply(v, out): out = A v, for v of size n. start: the first Lanczos vector (normalized here); a zero
/// or non-finite start is replaced by a seeded random vector. A product that is not finite ends the run
/// with NaN values (converged false). The Ritz vectors are returned for the wanted extremes only.
/// workspace: kept by the caller between runs (may be null).
LanczosResult lanczos_extremes(const std::function<void(const Vector& v, Vector& out)>& apply, Eigen::Index n,
                               const Vector& start, const LanczosOptions& options,
                               LanczosWorkspace* workspace = nullptr);

}  // namespace gradflow

#include <gradflow/theory/lanczos.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/tolerances.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace gradflow {
namespace {

// Orthogonalizes w against the first k columns of q (classical Gram-Schmidt), with a second pass only
// when the first removed more than 1 - 1/sqrt(2) of w's norm (the test of Daniel, Gragg, Kaufman and
// Stewart): after the three-term recurrence the components left are at round-off, one pass suffices,
// and each pass reads the whole basis (the largest cost of a row at p = 1e5). c is scratch of size
// >= k; nothing is allocated.
void orthogonalize(const Matrix& q, Eigen::Index k, Vector& w, Vector& c) {
  if (k == 0) return;
  for (int pass = 0; pass < 2; ++pass) {
    const double before = w.norm();
    c.head(k).noalias() = q.leftCols(k).transpose() * w;
    w.noalias() -= q.leftCols(k) * c.head(k);
    if (w.norm() > before / std::numbers::sqrt2) return;
  }
}

}  // namespace

LanczosResult lanczos_extremes(const std::function<void(const Vector& v, Vector& out)>& apply, Eigen::Index n,
                               const Vector& start, const LanczosOptions& options, LanczosWorkspace* workspace) {
  if (n < 1) throw std::invalid_argument("lanczos_extremes(): the dimension must be >= 1");
  if (start.size() != n) throw std::invalid_argument("lanczos_extremes(): the start vector has the wrong size");
  const Eigen::Index cap = std::min<Eigen::Index>(n, tolerances::kLanczosMaxVectors);
  const Eigen::Index m = options.max_iterations > 0 ? std::min<Eigen::Index>(options.max_iterations, cap) : cap;
  const Eigen::Index min_k = std::clamp<Eigen::Index>(options.min_iterations, 1, m);
  Random random(derive_seed(options.seed, 17));

  // The basis grows as the iteration goes (a warm start that converges in a few products allocates a
  // few vectors, not m).
  LanczosWorkspace local;
  LanczosWorkspace& ws = workspace != nullptr ? *workspace : local;
  Matrix& q = ws.q;
  if (q.rows() != n || q.cols() < 1) q.resize(n, std::min<Eigen::Index>(m, 8));
  std::vector<double> alpha, beta;  // T's diagonal and off-diagonal (beta[k] couples k and k + 1)
  Vector v = start;
  double norm = v.norm();
  if (!(norm > 0.0) || !std::isfinite(norm)) {
    v = random.normal_vector(n);
    norm = v.norm();
  }
  q.col(0) = v / norm;
  Vector& w = ws.w;
  Vector& qk = ws.qk;
  Vector& c = ws.c;
  w.resize(n);
  qk.resize(n);
  if (c.size() < m) c.resize(m);
  LanczosResult result;
  Eigen::SelfAdjointEigenSolver<Matrix> tri;
  for (Eigen::Index k = 0; k < m; ++k) {
    qk = q.col(k);
    apply(qk, w);
    ++result.products;
    if (!w.allFinite()) {  // no estimate: NaN values, not converged
      result.min = result.max = std::numeric_limits<double>::quiet_NaN();
      result.residual_min = result.residual_max = std::numeric_limits<double>::quiet_NaN();
      result.converged = false;
      return result;
    }
    alpha.push_back(qk.dot(w));
    // The three-term recurrence, then the full reorthogonalization that keeps the basis orthogonal.
    w -= alpha.back() * qk;
    if (k > 0) w -= beta.back() * q.col(k - 1);
    orthogonalize(q, k + 1, w, c);
    const double b = w.norm();
    // The Ritz values and vectors of T_{k+1}.
    const Eigen::Index size = k + 1;
    Vector diag = Eigen::Map<const Vector>(alpha.data(), size);
    Vector sub = size > 1 ? Vector(Eigen::Map<const Vector>(beta.data(), size - 1)) : Vector(0);
    tri.computeFromTridiagonal(diag, sub, Eigen::ComputeEigenvectors);
    const Vector& theta = tri.eigenvalues();
    const Matrix& s = tri.eigenvectors();
    const double scale = std::max(std::abs(theta[0]), std::abs(theta[size - 1]));
    result.min = theta[0];
    result.max = theta[size - 1];
    result.residual_min = b * std::abs(s(size - 1, 0));
    result.residual_max = b * std::abs(s(size - 1, size - 1));
    const bool min_ok = !options.want_min || result.residual_min <= options.rtol * scale;
    const bool max_ok = !options.want_max || result.residual_max <= options.rtol * scale;
    const bool last = size == m;
    if ((size >= min_k && min_ok && max_ok) || last) {
      result.converged = (min_ok && max_ok) || size == n;
      if (options.want_min) result.v_min = q.leftCols(size) * s.col(0);
      if (options.want_max) result.v_max = q.leftCols(size) * s.col(size - 1);
      return result;
    }
    // The next vector; after a breakdown (an invariant subspace) a random one, orthogonal to the space.
    if (k + 1 >= q.cols()) q.conservativeResize(Eigen::NoChange, std::min<Eigen::Index>(m, 2 * q.cols()));
    if (b > tolerances::kLanczosBreakdown * std::max(scale, std::numeric_limits<double>::min())) {
      q.col(k + 1) = w / b;
      beta.push_back(b);
    } else {
      Vector r = random.normal_vector(n);
      orthogonalize(q, k + 1, r, c);
      orthogonalize(q, k + 1, r, c);  // r starts with large components along the basis
      q.col(k + 1) = r / r.norm();
      beta.push_back(0.0);
    }
  }
  return result;  // not reached: the loop returns at its last iteration
}

}  // namespace gradflow

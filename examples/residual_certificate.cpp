// A squared loss of one's own, certified: L = 1/2 ||r(theta)||^2 with the residuals of a linear model
// with a small sinusoidal nonlinearity,
//   r_i(theta) = x_i^T theta + eps sin(w_i^T theta) - y_i,     J_i = x_i^T + eps cos(w_i^T theta) w_i^T.
// Row by row |cos(w_i^T a) - cos(w_i^T b)| <= ||w_i|| ||a - b||, so J is l-Lipschitz everywhere with
//   l = eps sqrt(sum_i ||w_i||^4)
// (the Frobenius norm bounds the spectral one): a rigorous bound, given as jacobian_lipschitz(). The PL
// certificate (docs/theory.md §4) then holds when sigma0^2 > 4 l ||r0||, and gradient flow must stay
// under the certified bound L0 exp(-2 mu t) and within the certified travel of theta0.
//
// Exits 0 when the certificate holds and the flow keeps both, and when the same loss without the bound
// is told what is missing.
#include <gradflow/gradflow.hpp>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace {

class SinusoidalLeastSquares : public gradflow::ResidualObjective {
 public:
  SinusoidalLeastSquares(gradflow::Matrix x, gradflow::Matrix w, gradflow::Vector y, double eps, bool give_bound)
      : x_(std::move(x)), w_(std::move(w)), y_(std::move(y)), eps_(eps), give_bound_(give_bound) {}

  std::string name() const override { return "sinusoidal-least-squares"; }
  Eigen::Index dimension() const override { return x_.cols(); }
  Eigen::Index num_residuals() const override { return x_.rows(); }
  void residuals(const gradflow::ConstVectorView& theta, gradflow::VectorView r) const override {
    r = x_ * theta + eps_ * (w_ * theta).array().sin().matrix() - y_;
  }
  void jacobian(const gradflow::ConstVectorView& theta, gradflow::MatrixView j) const override {
    j = x_ + eps_ * (w_ * theta).array().cos().matrix().asDiagonal() * w_;
  }
  std::optional<double> jacobian_lipschitz(const gradflow::ConstVectorView&, double) const override {
    if (!give_bound_) return std::nullopt;
    return eps_ * std::sqrt(w_.rowwise().squaredNorm().array().square().sum());
  }

 private:
  gradflow::Matrix x_, w_;
  gradflow::Vector y_;
  double eps_;
  bool give_bound_;
};

}  // namespace

int main() {
  using namespace gradflow;
  Random random(7);
  const Eigen::Index n = 6, p = 10;
  const Matrix x = random.normal_matrix(n, p);
  const Matrix w = random.normal_matrix(n, p) / std::sqrt(static_cast<double>(p));
  const Vector y = random.normal_vector(n);
  const SinusoidalLeastSquares loss(x, w, y, /*eps=*/0.01, /*give_bound=*/true);
  const Vector theta0 = Vector::Zero(p);

  const Certificate certificate = certify(loss, theta0);
  std::printf("%s\n  sigma0 = %.6g, ||J0|| = %.6g, ||r0|| = %.6g, l = %.6g (%s)\n", certificate.verdict().c_str(),
              certificate.sigma0, certificate.jacobian_norm, certificate.residual_norm, certificate.lipschitz,
              certificate.lipschitz_kind.c_str());

  FlowOptions options;
  options.solver = Solver::cvode_bdf;
  options.t_end = 20.0;
  if (certificate.applies && certificate.holds) {  // the certified rate and travel, to be checked by the run
    options.mu = certificate.mu;
    options.radius = certificate.travel;
  }
  const FlowResult flow = simulate_flow(loss, theta0, options);
  std::printf("%s", flow.full_report().c_str());

  const SinusoidalLeastSquares without_bound(x, w, y, 0.01, /*give_bound=*/false);
  const Certificate missing = certify(without_bound, theta0);
  std::printf("without jacobian_lipschitz(): %s\n", missing.verdict().c_str());

  const bool ok = certificate.applies && certificate.holds && flow.succeeded() && flow.bound_holds == true &&
                  flow.radius_holds == true && !missing.applies &&
                  missing.why_not.find("jacobian_lipschitz") != std::string::npos;
  return ok ? 0 : 1;
}

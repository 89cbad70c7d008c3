// The network problem: derivatives against central differences for every activation and depth, the
// structure at W_1 = 0 (docs/theory.md §7.15), the statistics and reproducibility of every
// initialization, the data report, and the flow and descent driving a network to interpolation.
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include "mlp_support.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <cmath>
#include <cstring>
#include <thread>

using namespace gradflow;
using gradflow::test::mlp_architecture;
using gradflow::test::relative_error;

namespace {

std::vector<Eigen::Index> widths_for_depth(int depth) {
  std::vector<Eigen::Index> widths{7, 5, 4};
  widths.resize(depth);
  return widths;
}

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

}  // namespace

// The Hessian by central differences of the exact gradient, column by column, symmetrised: an oracle
// independent of hessian_vector(). Step h (1 + |theta_j|): the truncation error ~h^2 (third derivatives)
// and the rounding error ~eps |g| / h are both near 1e-10 relative for h = 1e-5 on these small networks.
static Matrix finite_difference_hessian(const Objective& f, const Vector& theta, double h = 1e-5) {
  const Eigen::Index p = f.dimension();
  Matrix columns(p, p);
  Vector x = theta, g_plus(p), g_minus(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const double step = h * (1.0 + std::abs(theta[j]));
    x[j] = theta[j] + step;
    f.loss_and_gradient(x, g_plus);
    x[j] = theta[j] - step;
    f.loss_and_gradient(x, g_minus);
    x[j] = theta[j];
    columns.col(j) = (g_plus - g_minus) / (2.0 * step);
  }
  return 0.5 * (columns + columns.transpose());
}

TEST_CASE(
    "The network's gradient and Hessian-vector product match central differences for every activation and depth "
    "(docs/theory.md §7.27)",
    "[mlp]") {
  const NetworkData data = synthetic_data(6, 4, 3);
  for (const std::string& name : activation_names()) {
    const Activation activation = *activation_from_string(name);
    for (int depth = 1; depth <= 3; ++depth) {
      for (const bool bias : {false, true}) {
        const Mlp f(mlp_architecture(4, widths_for_depth(depth), activation, bias), data.x, data.y);
        InitOptions init;
        init.scheme = InitScheme::xavier_normal;
        init.seed = static_cast<std::uint64_t>(depth);
        Vector theta = initialize(f.architecture(), init);
        if (bias) theta += 0.1 * Random(5).normal_vector(theta.size());  // nonzero biases
        INFO(name << ", depth " << depth << (bias ? ", with biases" : ""));
        Vector grad(f.dimension());
        const double loss = f.loss_and_gradient(theta, grad);
        CHECK(loss == Approx(f.loss(theta)).epsilon(1e-14));
        CHECK(relative_error(grad, test::numerical_gradient(f, theta, 1e-6)) < 1e-6);
        // The exact product against a central difference of exact gradients.
        const Vector v = Random(6).normal_vector(f.dimension());
        Vector hv(f.dimension()), g_plus(f.dimension()), g_minus(f.dimension());
        f.hessian_vector(theta, v, hv);
        const double h = 1e-5;
        f.loss_and_gradient(theta + h * v, g_plus);
        f.loss_and_gradient(theta - h * v, g_minus);
        CHECK(relative_error(hv, (g_plus - g_minus) / (2 * h)) < 1e-6);
      }
    }
  }
}

TEST_CASE("The network's Jacobian, Gram matrix, sigma_min and dense Hessian agree with each other", "[mlp]") {
  const NetworkData data = synthetic_data(5, 8, 4);
  const Mlp f(mlp_architecture(8, {6, 3}, Activation::softplus, true), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::kaiming_normal;
  const Vector theta = initialize(f.architecture(), init);
  const Matrix j = f.jacobian(theta);
  // Columns of J against differences of the predictions.
  for (const Eigen::Index k : {Eigen::Index{0}, f.dimension() / 2, f.dimension() - 1}) {
    Vector e = Vector::Zero(f.dimension());
    e[k] = 1e-6;
    const Vector column = (f.predict(theta + e) - f.predict(theta - e)) / 2e-6;
    CHECK((j.col(k) - column).norm() <= 1e-7 * (1 + column.norm()));
  }
  CHECK(relative_error(f.gram(theta).reshaped(), (j * j.transpose()).eval().reshaped()) < 1e-12);
  const Eigen::JacobiSVD<Matrix> svd(j);
  CHECK(f.sigma_min(theta) == Approx(svd.singularValues()[4]).epsilon(1e-8));
  // grad L = J^T r.
  Vector grad(f.dimension());
  f.loss_and_gradient(theta, grad);
  CHECK(relative_error(grad, j.transpose() * (f.predict(theta) - data.y)) < 1e-12);
  REQUIRE(f.has_hessian());
  Matrix hessian(f.dimension(), f.dimension());
  f.hessian(theta, hessian);
  const Vector v = Random(8).normal_vector(f.dimension());
  Vector hv(f.dimension());
  f.hessian_vector(theta, v, hv);
  CHECK(relative_error(hessian * v, hv) < 1e-10);
  CHECK((hessian - hessian.transpose()).norm() == 0.0);
  // The dense Hessian and the product against central differences of the gradient (not of hessian_vector).
  const Matrix reference = finite_difference_hessian(f, theta);
  CHECK((hessian - reference).norm() <= 1e-6 * reference.norm());
  CHECK(relative_error(hv, reference * v) < 1e-6);
  // The residual curvature sum_i r_i grad^2 r_i = H - J^T J, where sigma'' enters, on its own: it is a
  // sizeable part of H here, so a wrong sign or factor in it cannot hide under the Gauss-Newton part.
  const Matrix gauss_newton = j.transpose() * j;
  const Matrix curvature = reference - gauss_newton;
  REQUIRE(curvature.norm() > 1e-2 * reference.norm());
  CHECK((hessian - gauss_newton - curvature).norm() <= 1e-6 * curvature.norm());
}

TEST_CASE("At W_1 = 0 the first-layer Jacobian is ||g||^2 X X^T with one g for all samples (docs/theory.md §7.15)",
          "[mlp]") {
  const NetworkData data = synthetic_data(6, 10, 9);
  const Matrix sample_gram = data.x * data.x.transpose();
  const double lambda_min = Eigen::SelfAdjointEigenSolver<Matrix>(sample_gram).eigenvalues()[0];
  for (const Activation activation :
       {Activation::tanh, Activation::arctan, Activation::softplus, Activation::sigmoid}) {
    for (int depth = 1; depth <= 3; ++depth) {
      for (const double s : {3.0, -2.0}) {
        const Mlp f(mlp_architecture(10, widths_for_depth(depth), activation, false), data.x, data.y);
        InitOptions init;
        init.scheme = InitScheme::positive;
        init.seed = 11;
        init.output_scale = s;
        const Vector theta = initialize(f.architecture(), init);
        INFO(to_string(activation) << ", depth " << depth << ", s = " << s);
        const Matrix j = f.jacobian(theta);
        const auto layers = f.architecture().layers();
        const auto& first = layers[0];
        const Matrix j_first = j.middleCols(first.weight_offset, first.rows * first.cols);
        // Row i of the W_1 block is g_i x_i^T flattened row-major: recover g_i.
        std::vector<Vector> g;
        for (Eigen::Index i = 0; i < 6; ++i) {
          // (j_first is column-major: copy the row before viewing it row-major)
          const Eigen::RowVectorXd row = j_first.row(i);
          const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
              row.data(), first.rows, first.cols);
          g.push_back(m * data.x.row(i).transpose() / data.x.row(i).squaredNorm());
        }
        for (Eigen::Index i = 1; i < 6; ++i) CHECK(relative_error(g[i], g[0]) < 1e-12);
        CHECK((g[0].array() * s > 0).all());  // sign(g) = sign(s)
        const double g2 = g[0].squaredNorm();
        CHECK(relative_error((j_first * j_first.transpose()).reshaped(), (g2 * sample_gram).reshaped()) < 1e-12);
        if (value_at_zero(activation) == 0.0) {
          CHECK(f.predict(theta).cwiseAbs().maxCoeff() == 0.0);
          CHECK(f.sigma_min(theta) * f.sigma_min(theta) == Approx(g2 * lambda_min).epsilon(1e-9));
        }
      }
    }
  }
}

TEST_CASE("Each random initialization has the variance of its formula within sampling error", "[mlp]") {
  const MlpArchitecture arch = mlp_architecture(300, {200}, Activation::tanh, false);  // W_1: 200 x 300
  const double fan_in = 300, fan_out = 200, count = 60000;
  const std::vector<std::pair<InitScheme, double>> expected{{InitScheme::xavier_uniform, 2.0 / (fan_in + fan_out)},
                                                            {InitScheme::xavier_normal, 2.0 / (fan_in + fan_out)},
                                                            {InitScheme::kaiming_uniform, 2.0 / fan_in},
                                                            {InitScheme::kaiming_normal, 2.0 / fan_in},
                                                            {InitScheme::lecun_normal, 1.0 / fan_in}};
  for (const auto& [scheme, variance] : expected) {
    InitOptions init;
    init.scheme = scheme;
    init.seed = 21;
    const Vector theta = initialize(arch, init);
    const Vector w = theta.head(static_cast<Eigen::Index>(count));
    const double mean = w.mean();
    const double sample_variance = (w.array() - mean).square().sum() / (count - 1);
    const bool uniform = scheme == InitScheme::xavier_uniform || scheme == InitScheme::kaiming_uniform;
    // Standard error of the sample variance: sqrt((mu4 - sigma^4) / N), mu4 = 9/5 sigma^4 (uniform), 3 sigma^4
    // (normal).
    const double se = variance * std::sqrt((uniform ? 0.8 : 2.0) / count);
    INFO(to_string(scheme));
    CHECK(std::abs(sample_variance - variance) < 4 * se);
    CHECK(std::abs(mean) < 4 * std::sqrt(variance / count));
  }
  InitOptions init;
  init.scheme = InitScheme::orthogonal;
  const Vector theta = initialize(arch, init);
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w(theta.data(), 200,
                                                                                                   300);
  CHECK((w * w.transpose() - Matrix::Identity(200, 200)).cwiseAbs().maxCoeff() < 1e-12);
  init.scheme = InitScheme::zeros;
  CHECK(initialize(arch, init).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("The positive initialization: W_1 = 0, hidden weights in [a, b] / fan_in, output s v with v > 0", "[mlp]") {
  const MlpArchitecture arch = mlp_architecture(12, {40, 30}, Activation::tanh, true);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.seed = 4;
  init.output_scale = -2.5;
  const Vector theta = initialize(arch, init);
  const auto layers = arch.layers();
  CHECK(theta.segment(layers[0].weight_offset, 40 * 12).cwiseAbs().maxCoeff() == 0.0);
  const Vector hidden = theta.segment(layers[1].weight_offset, 30 * 40);
  CHECK(hidden.minCoeff() >= 0.5 / 40);
  CHECK(hidden.maxCoeff() <= 1.5 / 40);
  CHECK(hidden.mean() == Approx(1.0 / 40).epsilon(0.05));
  const Vector output = theta.segment(layers[2].weight_offset, 30);
  CHECK((output.array() / -2.5).minCoeff() >= 0.5 / 30);
  CHECK((output.array() / -2.5).maxCoeff() <= 1.5 / 30);
  for (const auto& layer : layers) CHECK(theta.segment(layer.bias_offset, layer.rows).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("Initializations and gradients reproduce their bits across runs and threads", "[mlp]") {
  const NetworkData data = synthetic_data(16, 20, 2);
  const MlpArchitecture arch = mlp_architecture(20, {32, 16}, Activation::tanh, true);
  const auto compute = [&](InitScheme scheme, std::uint64_t seed) {
    InitOptions init;
    init.scheme = scheme;
    init.seed = seed;
    const Vector theta = initialize(arch, init);
    const Mlp f(arch, data.x, data.y);
    Vector grad(theta.size());
    f.loss_and_gradient(theta, grad);
    Vector out(2 * theta.size());
    out << theta, grad;
    return out;
  };
  for (const std::string& name : init_scheme_names()) {
    const InitScheme scheme = *init_scheme_from_string(name);
    const Vector reference = compute(scheme, 7);
    Vector in_thread_a, in_thread_b;
    std::thread a([&] { in_thread_a = compute(scheme, 7); });
    std::thread b([&] { in_thread_b = compute(scheme, 7); });
    a.join();
    b.join();
    INFO(name);
    CHECK(same_bits(reference, compute(scheme, 7)));
    CHECK(same_bits(reference, in_thread_a));
    CHECK(same_bits(reference, in_thread_b));
    if (scheme != InitScheme::zeros) CHECK_FALSE(same_bits(reference, compute(scheme, 8)));
  }
  // Synthetic data too.
  CHECK(same_bits(synthetic_data(5, 7, 3).x.reshaped(), synthetic_data(5, 7, 3).x.reshaped()));
}

TEST_CASE("Synthetic data: teacher targets are the teacher network's outputs and the report detects n > d", "[mlp]") {
  TeacherSpec teacher{{8}, Activation::tanh};
  const NetworkData data = synthetic_data(10, 6, 5, teacher);
  CHECK(data.y.norm() > 0.0);
  const NetworkData again = synthetic_data(10, 6, 5, teacher);
  CHECK(same_bits(data.y, again.y));
  IndependenceReport report = independence_report(data.x);
  CHECK(report.n == 10);
  CHECK(report.rank == 6);
  CHECK_FALSE(report.applies);
  CHECK_THAT(report.message, Catch::Contains("warning: n > d"));
  report = independence_report(synthetic_data(4, 9, 5).x);
  CHECK(report.applies);
  CHECK(report.rank == 4);
  CHECK(report.sigma_min > 0.0);
  Matrix dependent = synthetic_data(4, 9, 5).x;
  dependent.row(3) = dependent.row(0) + dependent.row(1);
  report = independence_report(dependent);
  CHECK(report.rank == 3);
  CHECK_THAT(report.message, Catch::Contains("linearly dependent"));
  CHECK(qualifies(Activation::softplus));
  CHECK_FALSE(qualifies(Activation::relu));
  CHECK_FALSE(why_not_qualified(Activation::gelu).empty());
}

TEST_CASE("Flow and descent drive a tanh network from the positive initialization to interpolation", "[mlp]") {
  const NetworkData data = synthetic_data(8, 16, 12);
  const Mlp f(mlp_architecture(16, {32}, Activation::tanh, false), data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.seed = 3;
  init.output_scale = 4.0;
  const Vector theta0 = initialize(f.architecture(), init);
  FlowOptions flow;
  flow.solver = Solver::cvode_bdf;
  flow.t_end = 1e4;
  flow.stop.loss_tol = 1e-22;
  flow.save.times = {flow.t_end};
  const FlowResult r = simulate_flow(f, theta0, flow);
  INFO(r.message);
  REQUIRE(r.status == Status::tolerance_reached);
  CHECK(r.loss_final < 1e-20);
  CHECK(f.loss(r.theta) < 1e-20);
  DescentOptions descent;
  descent.step = StepRule::inverse_smoothness;
  descent.stop.loss_tol = 1e-22;
  descent.stop.max_steps = 100000;
  const DescentResult d = descend(f, theta0, descent);
  INFO(d.message);
  REQUIRE(d.status == Status::tolerance_reached);
  CHECK(d.loss_final < 1e-20);
  CHECK(d.facts.beta_estimated);
}

TEST_CASE("An invalid architecture or data of the wrong shape is rejected", "[mlp]") {
  const NetworkData data = synthetic_data(4, 5, 1);
  CHECK_THROWS_WITH(Mlp(mlp_architecture(5, {3, 0}, Activation::tanh, false), data.x, data.y),
                    Catch::Contains("hidden layer 2 has width 0"));
  CHECK_THROWS_WITH(Mlp(mlp_architecture(6, {3}, Activation::tanh, false), data.x, data.y),
                    Catch::Contains("5 features"));
  CHECK_THROWS_AS(Mlp(mlp_architecture(5, {}, Activation::tanh, false), data.x, data.y), std::invalid_argument);
  CHECK(mlp_architecture(5, {3, 2}, Activation::tanh, true).num_parameters() == 3 * 5 + 3 + 2 * 3 + 2 + 2 + 1);
}

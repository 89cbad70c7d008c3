// The network's evaluations on several threads (Mlp::set_threads, problems/mlp.hpp): the loss,
// gradient, Hessian-vector product, dense Hessian and Gram matrix are the same bits on 1, 2, 3 and 8
// threads, and so are whole flow and descent runs; the partitioned evaluation agrees with an independent
// oracle (the sum of one-sample networks, each evaluated in one block); and --threads on the command
// line.
#include <gradflow/apps/descend_command.hpp>
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/detail/gemm.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace gradflow;

namespace {

bool same_bits(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

struct Network {
  MlpArchitecture arch;
  NetworkData data;
};

// Networks large enough that the work is split into several blocks of samples and of weight rows,
// with uneven block sizes, biases, two depths and two activations.
std::vector<Network> partitioned_networks() {
  std::vector<Network> out;
  const auto make = [&](Eigen::Index n, Eigen::Index d, std::vector<Eigen::Index> widths, Activation activation,
                        bool bias, std::uint64_t seed) {
    Network net;
    net.arch.input_dim = d;
    net.arch.widths = std::move(widths);
    net.arch.activation = activation;
    net.arch.bias = bias;
    net.data = synthetic_data(n, d, seed);
    out.push_back(net);
  };
  make(256, 48, {150, 96}, Activation::tanh, true, 1);
  make(203, 30, {130}, Activation::softplus, false, 2);
  make(300, 20, {140, 65, 128}, Activation::sigmoid, true, 3);
  return out;
}

Vector start(const MlpArchitecture& arch, std::uint64_t seed) {
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  init.seed = seed;
  Vector theta = initialize(arch, init);
  if (arch.bias) theta += 0.05 * Random(seed + 10).normal_vector(theta.size());
  return theta;
}

}  // namespace

TEST_CASE(
    "The network's loss, gradient, Hessian-vector product and Gram matrix are the same bits on 1, 2, 3, 8 threads",
    "[mlp][threads]") {
  for (const Network& net : partitioned_networks()) {
    Mlp f(net.arch, net.data.x, net.data.y);
    const Mlp::Partition partition = f.partition();
    INFO("n " << net.data.x.rows() << ", p " << f.dimension() << ", " << partition.sample_blocks << " sample blocks, "
              << partition.weight_blocks << " weight blocks");
    // Otherwise the test would not exercise the split.
    REQUIRE(partition.sample_blocks >= 3);
    REQUIRE(partition.weight_blocks > static_cast<Eigen::Index>(net.arch.widths.size()) + 1);
    const Vector theta = start(net.arch, 4);
    const Vector v = Random(5).normal_vector(f.dimension());
    const auto evaluate = [&](int threads) {
      f.set_threads(threads);
      CHECK(f.threads() == threads);
      Vector grad(f.dimension()), hv(f.dimension());
      const double loss = f.loss_and_gradient(theta, grad);
      f.hessian_vector(theta, v, hv);
      Vector all(3 + 2 * f.dimension());
      all << loss, f.loss(theta), f.predict(theta).sum(), grad, hv;
      return std::make_pair(all, f.gram(theta));
    };
    const auto reference = evaluate(1);
    for (const int threads : {2, 3, 8}) {
      INFO(threads << " threads");
      const auto result = evaluate(threads);
      CHECK(same_bits(result.first, reference.first));
      CHECK(same_bits(result.second, reference.second));
    }
  }
}

TEST_CASE("The network's dense Hessian is the same bits on 1 and 3 threads", "[mlp][threads]") {
  // p = 1220 (a dense Hessian exists) and 6 n p above the threshold for splitting the samples.
  Network net;
  net.arch.input_dim = 10;
  net.arch.widths = {40, 20};
  net.data = synthetic_data(600, 10, 6);
  Mlp f(net.arch, net.data.x, net.data.y);
  REQUIRE(f.has_hessian());
  REQUIRE(f.partition().sample_blocks > 1);
  const Vector theta = start(net.arch, 7);
  Matrix h1(f.dimension(), f.dimension()), h3(f.dimension(), f.dimension());
  f.set_threads(1);
  f.hessian(theta, h1);
  f.set_threads(3);
  f.hessian(theta, h3);
  CHECK(same_bits(h1, h3));
}

TEST_CASE("The split evaluation agrees with the sum of one-sample networks", "[mlp][threads]") {
  // An independent oracle: L, grad L and H v are sums over the samples, and a one-sample network is
  // evaluated in a single block; the rows of the Jacobian are the one-sample networks' Jacobians.
  for (const Network& net : partitioned_networks()) {
    Mlp f(net.arch, net.data.x, net.data.y);
    f.set_threads(2);
    const Vector theta = start(net.arch, 8);
    const Vector v = Random(9).normal_vector(f.dimension());
    const Eigen::Index n = net.data.x.rows(), p = f.dimension();
    double loss_sum = 0.0;
    Vector grad_sum = Vector::Zero(p), hv_sum = Vector::Zero(p), grad_i(p), hv_i(p);
    Matrix jacobian(n, p);
    for (Eigen::Index i = 0; i < n; ++i) {
      const Mlp one(net.arch, net.data.x.row(i), net.data.y.segment(i, 1));
      REQUIRE(one.partition().sample_blocks == 1);
      loss_sum += one.loss_and_gradient(theta, grad_i);
      grad_sum += grad_i;
      one.hessian_vector(theta, v, hv_i);
      hv_sum += hv_i;
      jacobian.row(i) = one.jacobian(theta).row(0);
    }
    Vector grad(p), hv(p);
    const double loss = f.loss_and_gradient(theta, grad);
    f.hessian_vector(theta, v, hv);
    CHECK(loss == Approx(loss_sum).epsilon(1e-12));
    CHECK(test::relative_error(grad, grad_sum) < 1e-12);
    CHECK(test::relative_error(hv, hv_sum) < 1e-12);
    const Matrix gram = f.gram(theta), expected = jacobian * jacobian.transpose();
    CHECK((gram - expected).norm() <= 1e-12 * expected.norm());
  }
}

TEST_CASE("Flow and descent on a network give the same bits on 1, 2 and 8 threads", "[mlp][threads]") {
  const Network net = partitioned_networks()[1];
  const Vector theta0 = start(net.arch, 11);
  const auto run = [&](int threads) {
    Mlp f(net.arch, net.data.x, net.data.y);
    f.set_threads(threads);
    DescentOptions descent;
    descent.step = StepRule::armijo;
    descent.lr = 1.0;
    descent.stop.max_steps = 8;
    const DescentResult d = descend(f, theta0, descent);
    FlowOptions flow;
    flow.solver = Solver::dopri5;
    flow.t_end = 0.002;
    const FlowResult r = simulate_flow(f, theta0, flow);
    flow.solver = Solver::cvode_bdf_krylov;
    const FlowResult k = simulate_flow(f, theta0, flow);
    CHECK(d.iterations == 8);
    CHECK(r.succeeded());
    CHECK(k.succeeded());
    Vector all(3 * theta0.size() + 6);
    all << d.theta, r.theta, k.theta, d.loss_final, r.loss_final, k.loss_final,
        static_cast<double>(r.stats.num_gradient_evals), static_cast<double>(k.stats.num_hessian_vector_evals),
        static_cast<double>(d.stats.num_loss_evals);
    return all;
  };
  const Vector reference = run(1);
  CHECK(same_bits(run(2), reference));
  CHECK(same_bits(run(8), reference));
}

TEST_CASE("Mlp::set_threads: 0 is every core, a negative count is rejected", "[mlp][threads]") {
  const NetworkData data = synthetic_data(8, 3, 1);
  MlpArchitecture arch;
  arch.input_dim = 3;
  arch.widths = {4};
  Mlp f(arch, data.x, data.y);
  CHECK(f.threads() == 1);
  f.set_threads(0);
  CHECK(f.threads() >= 1);
  CHECK_THROWS_AS(f.set_threads(-1), std::invalid_argument);
}

TEST_CASE("gradflow descend --threads: the same bits for every count, and a negative count is bad input",
          "[mlp][threads][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(GRADFLOW_TESTS_BINARY_DIR) / "threads_sandbox";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto descend_with = [&](const std::string& threads, const std::string& tag) {
    CLI::App app;
    cli::DescendCommand command;
    cli::add_descend_command(app, command);
    std::vector<std::string> args{"descend",
                                  "--problem",
                                  "mlp",
                                  "--synthetic",
                                  "256,40",
                                  "--widths",
                                  "128,128",
                                  "--init",
                                  "xavier_normal",
                                  "--step",
                                  "armijo",
                                  "--max-iters",
                                  "4",
                                  "--quiet",
                                  "--threads",
                                  threads,
                                  "--theta-out",
                                  (dir / ("theta" + tag + ".csv")).string(),
                                  "--json",
                                  (dir / ("summary" + tag + ".json")).string()};
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last to first
    app.parse(args);
    return cli::run_descend_command(command);
  };
  const auto slurp = [](const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  };
  CHECK(descend_with("1", "1") == 0);
  CHECK(descend_with("3", "3") == 0);
  const std::string theta1 = slurp(dir / "theta1.csv");
  CHECK_FALSE(theta1.empty());
  CHECK(theta1 == slurp(dir / "theta3.csv"));
  CHECK(slurp(dir / "summary3.json").find("\"threads\": 3") != std::string::npos);
  try {
    descend_with("-1", "bad");
    FAIL("--threads -1 was accepted");
  } catch (const InputError& e) {
    CHECK(e.option() == "--threads");
  }
  CHECK_FALSE(fs::exists(dir / "thetabad.csv"));
}

TEST_CASE("kernels::gemm_strided multiplies blocks of larger matrices, for every transpose and shape",
          "[mlp][threads][kernels]") {
  // The weight-row blocks of the network's gradient are such blocks: rows r0 ... r1 of a column-major
  // matrix, with the leading dimension of the whole. Small shapes (computed in place, through gemm)
  // and large ones (packed).
  Random random(21);
  for (const auto& [m, n, k] : std::vector<std::tuple<long, long, long>>{{7, 1, 5}, {3, 4, 6}, {37, 29, 45}}) {
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        const long a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
        const long pad = 3;
        const Matrix a_big = random.normal_matrix(a_rows + pad, a_cols);
        const Matrix b_big = random.normal_matrix(b_rows + pad, b_cols);
        Matrix c_big = random.normal_matrix(m + pad, n);
        const Matrix a = a_big.middleRows(1, a_rows), b = b_big.middleRows(2, b_rows);
        const Matrix op_a = ta ? Matrix(a.transpose()) : a, op_b = tb ? Matrix(b.transpose()) : b;
        const Matrix start = c_big.middleRows(1, m);
        const Matrix expected = start + op_a * op_b;
        kernels::gemm_strided(ta, tb, m, n, k, a_big.data() + 1, a_rows + pad, b_big.data() + 2, b_rows + pad, true,
                              c_big.data() + 1, m + pad);
        INFO(m << " x " << n << " x " << k << ", transposes " << ta << tb);
        CHECK((c_big.middleRows(1, m) - expected).norm() <= 1e-13 * expected.norm());
        kernels::gemm_strided(ta, tb, m, n, k, a_big.data() + 1, a_rows + pad, b_big.data() + 2, b_rows + pad, false,
                              c_big.data() + 1, m + pad);
        CHECK((c_big.middleRows(1, m) - (expected - start)).norm() <= 1e-13 * expected.norm());
      }
    }
  }
}

// One objective shared by several threads (the thread-safety contract of core/objective.hpp): every
// built-in objective, evaluated at once from 4 threads at different points, gives each caller the bits
// of the same call made alone (loss, gradient, Hessian-vector product, residuals, Jacobian products,
// the network's Gram matrix and predictions), and so do whole descent and flow runs sharing one
// network; the evaluation counts of a shared CountingObjective are exact; the scratch pool hands out
// distinct workspaces. Catch2's assertions are not thread-safe: the threads record, the main thread
// checks. The tsan preset runs these under ThreadSanitizer.
#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/scratch_pool.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/problems/rosenbrock.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace gradflow;

namespace {

constexpr int kThreads = 4;

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

// Runs work(t) for t < threads, each on its own thread, released together; rethrows the first exception.
void run_together(int threads, const std::function<void(int)>& work) {
  std::atomic<int> arrived{0};
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      arrived.fetch_add(1);
      while (arrived.load() < threads) std::this_thread::yield();
      try {
        work(t);
      } catch (...) {
        errors[static_cast<std::size_t>(t)] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

// Everything a caller can ask of f at theta (v a direction in R^p, w one in R^n), in one vector: loss,
// loss_and_gradient, gradient, hessian_vector, and for a squared loss residuals, jv and jtv; for the
// network also a second product at the same point (its cached pass), predict and the Gram matrix.
Vector everything(const Objective& f, const Vector& theta, const Vector& v, const Vector& w, const Mlp* network) {
  const Eigen::Index p = f.dimension();
  std::vector<double> out;
  const auto add = [&](const Vector& x) { out.insert(out.end(), x.data(), x.data() + x.size()); };
  Vector g(p), g2(p), hv(p);
  out.push_back(f.loss(theta));
  out.push_back(f.loss_and_gradient(theta, g));
  add(g);
  f.gradient(theta, g2);
  add(g2);
  f.hessian_vector(theta, v, hv);
  add(hv);
  if (const ResidualObjective* r = f.as_residual()) {
    const Eigen::Index n = r->num_residuals();
    Vector res(n), jv(n), jtw(p);
    r->residuals(theta, res);
    r->jv(theta, v, jv);
    r->jtv(theta, w.head(n), jtw);
    add(res);
    add(jv);
    add(jtw);
  }
  if (network) {
    f.hessian_vector(theta, g, hv);  // at the same point: the workspace's cached forward pass
    add(hv);
    add(network->predict(theta));
    const Matrix k = network->gram(theta);
    add(Eigen::Map<const Vector>(k.data(), k.size()));
  }
  return Eigen::Map<const Vector>(out.data(), static_cast<Eigen::Index>(out.size()));
}

struct Points {
  std::vector<Vector> theta, v;
  Vector w;
};

Points points(Eigen::Index p, Eigen::Index n, double scale, std::uint64_t seed) {
  Random random(seed);
  Points pts;
  for (int k = 0; k < 5; ++k) {
    pts.theta.push_back(scale * random.normal_vector(p));
    pts.v.push_back(random.normal_vector(p));
  }
  pts.w = random.normal_vector(std::max<Eigen::Index>(n, 1));
  return pts;
}

// kThreads threads evaluate f at once, each cycling through the points from a different one, rounds
// times; the number of results whose bits differ from the serial ones (computed first, on this thread).
long mismatches(const Objective& f, const Points& pts, int rounds, const Mlp* network = nullptr) {
  std::vector<Vector> serial;
  for (std::size_t k = 0; k < pts.theta.size(); ++k)
    serial.push_back(everything(f, pts.theta[k], pts.v[k], pts.w, network));
  std::atomic<long> wrong{0};
  run_together(kThreads, [&](int t) {
    for (int round = 0; round < rounds; ++round) {
      for (std::size_t i = 0; i < pts.theta.size(); ++i) {
        const std::size_t k = (i + static_cast<std::size_t>(t)) % pts.theta.size();
        if (!same_bits(everything(f, pts.theta[k], pts.v[k], pts.w, network), serial[k])) wrong.fetch_add(1);
      }
    }
  });
  // And alone again, after the concurrent calls (the spare workspaces are not left dirty in a way that
  // matters).
  for (std::size_t k = 0; k < pts.theta.size(); ++k) {
    if (!same_bits(everything(f, pts.theta[k], pts.v[k], pts.w, network), serial[k])) wrong.fetch_add(1);
  }
  return wrong.load();
}

// A squared loss written by a user with the dense Jacobian only: jv(), jtv(), the loss, the gradient and
// the Hessian-vector product are ResidualObjective's defaults. Rosenbrock's residuals per pair.
class JacobianOnly final : public ResidualObjective {
 public:
  explicit JacobianOnly(Eigen::Index p) : p_(p) {}
  std::string name() const override { return "jacobian-only"; }
  Eigen::Index dimension() const override { return p_; }
  Eigen::Index num_residuals() const override { return p_; }
  void residuals(const ConstVectorView& x, VectorView r) const override {
    for (Eigen::Index k = 0; k < p_; k += 2) {
      r[k] = 10 * (x[k + 1] - x[k] * x[k]);
      r[k + 1] = 1 - x[k];
    }
  }
  void jacobian(const ConstVectorView& x, MatrixView j) const override {
    j.setZero();
    for (Eigen::Index k = 0; k < p_; k += 2) {
      j(k, k) = -20 * x[k];
      j(k, k + 1) = 10;
      j(k + 1, k) = -1;
    }
  }

 private:
  Eigen::Index p_;
};

// The same residuals with products only: jacobian() is the default, from jtv().
class ProductsOnly final : public ResidualObjective {
 public:
  explicit ProductsOnly(Eigen::Index p) : inner_(p) {}
  std::string name() const override { return "products-only"; }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  Eigen::Index num_residuals() const override { return inner_.num_residuals(); }
  void residuals(const ConstVectorView& x, VectorView r) const override { inner_.residuals(x, r); }
  void jv(const ConstVectorView& x, const ConstVectorView& v, VectorView out) const override {
    Matrix j(num_residuals(), dimension());
    jacobian(x, j);  // the default, through jtv()
    out = j * v;
  }
  void jtv(const ConstVectorView& x, const ConstVectorView& w, VectorView out) const override {
    Matrix j(num_residuals(), dimension());
    inner_.jacobian(x, j);
    out = j.transpose() * w;
  }

 private:
  JacobianOnly inner_;
};

Mlp network(Eigen::Index n, Eigen::Index d, std::vector<Eigen::Index> widths, bool bias, std::uint64_t seed) {
  MlpArchitecture arch;
  arch.input_dim = d;
  arch.widths = std::move(widths);
  arch.bias = bias;
  const NetworkData data = synthetic_data(n, d, seed);
  return Mlp(arch, data.x, data.y);
}

}  // namespace

TEST_CASE("The scratch pool gives overlapping leases distinct workspaces and allocates only when they overlap",
          "[concurrency]") {
  ScratchPool<Vector> pool;
  {
    const auto a = pool.lease();
    a->resize(3);
    const double* first = a->data();
    { const auto b = pool.lease(); }  // overlaps a: a spare
    CHECK(pool.spares() == 1);
    const auto b = pool.lease();  // the same spare, back from the free list
    CHECK(&*b != &*a);
    CHECK(pool.spares() == 1);
    CHECK(a->data() == first);
  }
  for (int i = 0; i < 100; ++i) {
    const auto serial = pool.lease();  // the primary each time: no more spares
  }
  CHECK(pool.spares() == 1);
  const ScratchPool<Vector> copy(pool);
  CHECK(copy.spares() == 0);
  pool.clear();
  CHECK(pool.spares() == 0);
  // Held by 4 threads at once, 4 distinct workspaces.
  std::atomic<int> holding{0};
  std::vector<const Vector*> held(kThreads);
  run_together(kThreads, [&](int t) {
    const auto lease = pool.lease();
    held[static_cast<std::size_t>(t)] = &*lease;
    holding.fetch_add(1);
    while (holding.load() < kThreads) std::this_thread::yield();
  });
  for (int i = 0; i < kThreads; ++i)
    for (int j = 0; j < i; ++j) CHECK(held[static_cast<std::size_t>(i)] != held[static_cast<std::size_t>(j)]);
  CHECK(pool.spares() == kThreads - 1);
}

TEST_CASE("Quadratic, least squares, Karimi and Rosenbrock shared by 4 threads give the serial bits", "[concurrency]") {
  const Quadratic quadratic = Quadratic::generated(40, 100.0, 3);
  const Matrix x = Random(4).normal_matrix(30, 40);
  const LeastSquares least_squares(x, Random(5).normal_vector(30));
  const Karimi karimi(40);
  const Rosenbrock rosenbrock(40);
  const Points pts = points(40, 30, 1.0, 6);
  CHECK(mismatches(quadratic, pts, 50) == 0);
  CHECK(mismatches(least_squares, pts, 50) == 0);
  CHECK(mismatches(karimi, pts, 50) == 0);
  CHECK(mismatches(rosenbrock, pts, 50) == 0);
}

TEST_CASE("FunctionObjective and ResidualObjective's defaults shared by 4 threads give the serial bits",
          "[concurrency]") {
  const Matrix a = test::spd_matrix(Vector::LinSpaced(12, 0.1, 3.0), 7);
  const auto bowl = [a](ConstVectorView x, VectorView g) {
    g.noalias() = a * x;
    return 0.5 * x.dot(g) + x.array().sin().sum();
  };
  // The loss through the callable's scratch gradient; the Hessian-vector product the central
  // difference of Objective, then an exact one.
  const FunctionObjective differences = FunctionObjective(12, bowl).with_name("bowl");
  const FunctionObjective exact =
      FunctionObjective(12, bowl).with_hessian_vector([a](ConstVectorView x, ConstVectorView v, VectorView hv) {
        hv.noalias() = a * v;
        hv -= (x.array().sin() * v.array()).matrix();
      });
  const Points pts = points(12, 12, 1.0, 8);
  CHECK(mismatches(differences, pts, 50) == 0);
  CHECK(mismatches(exact, pts, 50) == 0);
  // jv() and jtv() from the dense Jacobian, and jacobian() from jtv(), on 4 threads at once: each
  // thread's guard against a Jacobian given by none of them is its own.
  const JacobianOnly jacobian_only(12);
  const ProductsOnly products_only(12);
  CHECK(mismatches(jacobian_only, pts, 50) == 0);
  CHECK(mismatches(products_only, pts, 50) == 0);
}

TEST_CASE("A network shared by 4 threads gives the serial bits: 1 and 2 hidden layers, biases, split evaluations",
          "[concurrency][mlp]") {
  const Mlp one = network(40, 6, {16}, false, 1);
  const Mlp two = network(40, 6, {12, 8}, true, 2);
  CHECK(mismatches(one, points(one.dimension(), 40, 0.5, 9), 10, &one) == 0);
  CHECK(mismatches(two, points(two.dimension(), 40, 0.5, 10), 10, &two) == 0);
  // Large enough to be split into blocks, evaluated on 2 threads of the pool by each of 4 callers.
  Mlp split = network(256, 32, {96}, false, 3);
  REQUIRE(split.partition().sample_blocks > 1);
  split.set_threads(2);
  CHECK(mismatches(split, points(split.dimension(), 256, 0.2, 11), 2, &split) == 0);
}

TEST_CASE("A CountingObjective shared by 4 threads counts every evaluation", "[concurrency]") {
  const Quadratic quadratic = Quadratic::generated(8, 10.0, 1);
  const CountingObjective counted(quadratic);
  const Vector theta = Vector::Ones(8);
  constexpr int kCalls = 2000;
  run_together(kThreads, [&](int) {
    Vector g(8), hv(8);
    for (int i = 0; i < kCalls; ++i) {
      counted.loss(theta);
      counted.loss_and_gradient(theta, g);
      counted.gradient(theta, g);
      counted.hessian_vector(theta, theta, hv);
    }
  });
  const EvaluationCounts counts = counted.counts();
  CHECK(counts.num_loss_evals == kThreads * kCalls);
  CHECK(counts.num_gradient_evals == 2 * kThreads * kCalls);
  CHECK(counts.num_hessian_vector_evals == kThreads * kCalls);
  CHECK(counts.num_hessian_evals == 0);
}

TEST_CASE("Descent and flow runs on 4 threads sharing one network give the bits of the same runs alone",
          "[concurrency][mlp]") {
  for (const bool deep : {false, true}) {
    INFO((deep ? "2 hidden layers" : "1 hidden layer"));
    const Mlp f = deep ? network(30, 5, {10, 6}, true, 4) : network(30, 5, {12}, false, 5);
    // Each thread its own kind of run and start: a fixed step, Armijo with the sharpness and the NTK
    // observed (Lanczos: Hessian-vector products at one point; Gram products), the flow with dopri5 and
    // with CVODE's BDF with Krylov (exact Hessian-vector products).
    const auto run = [&](int kind) {
      InitOptions init;
      init.scheme = InitScheme::xavier_normal;
      init.seed = static_cast<std::uint64_t>(kind);
      const Vector theta0 = initialize(f.architecture(), init);
      std::vector<double> out;
      if (kind < 2) {
        DescentOptions o;
        o.step = kind == 0 ? StepRule::fixed : StepRule::armijo;
        o.lr = kind == 0 ? 0.01 : 1.0;
        o.stop.max_steps = 60;
        o.save.every_steps = 10;
        o.observe.sharpness = kind == 1;
        o.observe.ntk = kind == 1;
        const DescentResult r = descend(f, theta0, o);
        out.assign(r.theta.data(), r.theta.data() + r.theta.size());
        out.insert(out.end(),
                   {r.loss_final, static_cast<double>(r.iterations), static_cast<double>(r.stats.num_gradient_evals),
                    static_cast<double>(r.stats.num_loss_evals)});
        for (const Row& row : r.rows) out.insert(out.end(), {row.observed.sharpness, row.observed.ntk_min});
      } else {
        FlowOptions o;
        o.solver = kind == 2 ? Solver::dopri5 : Solver::cvode_bdf_krylov;
        o.t_end = 0.5;
        const FlowResult r = simulate_flow(f, theta0, o);
        out.assign(r.theta.data(), r.theta.data() + r.theta.size());
        out.insert(
            out.end(),
            {r.loss_final, static_cast<double>(r.stats.num_steps), static_cast<double>(r.stats.num_gradient_evals),
             static_cast<double>(r.stats.num_hessian_vector_evals), static_cast<double>(r.succeeded())});
      }
      return Vector(Eigen::Map<const Vector>(out.data(), static_cast<Eigen::Index>(out.size())));
    };
    std::vector<Vector> serial, together(kThreads);
    for (int kind = 0; kind < kThreads; ++kind) serial.push_back(run(kind));
    for (int repeat = 0; repeat < 2; ++repeat) {
      run_together(kThreads, [&](int t) { together[static_cast<std::size_t>(t)] = run(t); });
      for (int kind = 0; kind < kThreads; ++kind) {
        INFO("run " << kind << ", repeat " << repeat);
        CHECK(same_bits(together[static_cast<std::size_t>(kind)], serial[static_cast<std::size_t>(kind)]));
      }
    }
    // The same run on all 4 threads at once.
    run_together(kThreads, [&](int t) { together[static_cast<std::size_t>(t)] = run(1); });
    for (const Vector& r : together) CHECK(same_bits(r, serial[1]));
  }
}

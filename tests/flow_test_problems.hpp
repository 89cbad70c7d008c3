// Small objectives that only tests need: a quadratic without a dense Hessian, problems whose gradient
// stops being finite (or whose norm overflows) partway along the flow, and Powell's singular function.
#pragma once

#include <gradflow/core/function_objective.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/problems/quadratic.hpp>

#include <cmath>
#include <limits>

namespace gradflow::test {

// Forwards loss and gradient (and, optionally, the Hessian-vector product) but no dense Hessian.
class HiddenHessian final : public Objective {
 public:
  HiddenHessian(const Objective& inner, bool keep_hvp) : inner_(inner), keep_hvp_(keep_hvp) {}
  std::string name() const override { return inner_.name(); }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  double loss(const ConstVectorView& x) const override { return inner_.loss(x); }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    return inner_.loss_and_gradient(x, g);
  }
  void hessian_vector(const ConstVectorView& x, const ConstVectorView& v, VectorView hv) const override {
    if (keep_hvp_) {
      inner_.hessian_vector(x, v, hv);
    } else {
      Objective::hessian_vector(x, v, hv);
    }
  }
  bool has_exact_hessian_vector() const override { return keep_hvp_; }
  KnownFacts known() const override { return inner_.known(); }
  bool has_exact_flow() const override { return inner_.has_exact_flow(); }
  Vector exact_flow(const ConstVectorView& x, double t) const override { return inner_.exact_flow(x, t); }

 private:
  const Objective& inner_;
  bool keep_hvp_;
};

// L = 1/2 ||theta||^2 whose gradient is NaN once ||theta|| < 0.5: from theta0 with norm 1 the flow
// theta0 exp(-t) reaches that region at t = ln 2.
class NaNBelowHalf final : public Objective {
 public:
  explicit NaNBelowHalf(Eigen::Index dim) : dim_(dim) {}
  std::string name() const override { return "nan-below-half"; }
  Eigen::Index dimension() const override { return dim_; }
  double loss(const ConstVectorView& x) const override { return 0.5 * x.squaredNorm(); }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    if (x.norm() < 0.5) {
      g.setConstant(std::numeric_limits<double>::quiet_NaN());
    } else {
      g = x;
    }
    return 0.5 * x.squaredNorm();
  }

 private:
  Eigen::Index dim_;
};

// L = -theta_1 while theta_1 < 1 (the flow moves theta_1 up at unit speed); from theta_1 >= 1 on the loss
// is -1 and every gradient entry is 1e300: finite entries whose norm overflows.
class OverflowingNormBeyondOne final : public Objective {
 public:
  std::string name() const override { return "overflowing-norm"; }
  Eigen::Index dimension() const override { return 4; }
  double loss(const ConstVectorView& x) const override { return x[0] < 1.0 ? -x[0] : -1.0; }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    if (x[0] < 1.0) {
      g.setZero();
      g[0] = -1.0;
      return -x[0];
    }
    g.setConstant(1e300);
    return -1.0;
  }
};

// Powell's singular function (More, Garbow & Hillstrom 1981, problem 13) as a squared loss,
// L = 1/2 [(x1 + 10 x2)^2 + 5 (x3 - x4)^2 + (x2 - 2 x3)^4 + 10 (x1 - x4)^4], minimum 0 at 0, where its
// Hessian is singular (so the flow decays like 1/t^2, not exponentially). Standard start (3, -1, 0, 1).
inline double powell_loss_and_gradient(ConstVectorView x, VectorView g) {
  const double a = x[0] + 10 * x[1], b = x[2] - x[3], c = x[1] - 2 * x[2], d = x[0] - x[3];
  g[0] = a + 20 * d * d * d;
  g[1] = 10 * a + 2 * c * c * c;
  g[2] = 5 * b - 4 * c * c * c;
  g[3] = -5 * b - 20 * d * d * d;
  return 0.5 * (a * a + 5 * b * b + c * c * c * c + 10 * d * d * d * d);
}

inline Vector powell_start() {
  Vector x0(4);
  x0 << 3, -1, 0, 1;
  return x0;
}

// The same function as a subclass, for comparisons with FunctionObjective.
class PowellSingular final : public Objective {
 public:
  std::string name() const override { return "powell-singular"; }
  Eigen::Index dimension() const override { return 4; }
  double loss(const ConstVectorView& x) const override {
    Vector g(4);
    return powell_loss_and_gradient(x, g);
  }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    return powell_loss_and_gradient(x, g);
  }
  KnownFacts known() const override {
    KnownFacts facts;
    facts.min_value = 0.0;
    return facts;
  }
};

inline FunctionObjective powell_function() {
  return FunctionObjective(4, powell_loss_and_gradient).with_known({.min_value = 0.0}).with_name("powell-singular");
}

}  // namespace gradflow::test

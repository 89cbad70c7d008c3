// Small objectives that only tests need: a quadratic without a dense Hessian, and a problem whose
// gradient stops being finite partway along the flow.
#pragma once

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

}  // namespace gradflow::test

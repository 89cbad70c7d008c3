/// @file
/// An Objective made from a callable, without writing a subclass:
///
///   auto f = gradflow::FunctionObjective(2, [](gradflow::ConstVectorView x, gradflow::VectorView g) {
///              g << 2 * x[0], 20 * x[1];
///              return x[0] * x[0] + 10 * x[1] * x[1];
///            }).with_known({.min_value = 0.0}).with_name("bowl");
///
/// The callable is any F with double F(ConstVectorView theta, VectorView grad): it returns L(theta) and
/// writes grad L(theta) into grad (p entries). It is called exactly as a subclass's loss_and_gradient
/// would be, so a FunctionObjective gives the same bits as the equivalent subclass. loss() calls it too
/// (into a scratch gradient); hessian_vector() is the central difference of gradients of Objective
/// unless with_hessian_vector() gives an exact product; known() is what with_known() gave (by default
/// nothing, so the rate bound and the PL ratio need at least min_value).
///
/// Threads: the const members may be called from any number of threads at once on one instance (the
/// contract of core/objective.hpp) when the callables may: each call of loss() has a gradient buffer
/// of its own, and the callables are called as they are, without a lock. A callable that keeps state
/// of its own must guard it, or each thread gets its own FunctionObjective.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/scratch_pool.hpp>

#include <concepts>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace gradflow {

/// An Objective from a loss-and-gradient callable, with an optional exact Hessian-vector product, known
/// facts and a name (see above).
class FunctionObjective final : public Objective {
 public:
  /// Returns L(theta) and writes grad L(theta) (p entries) into grad.
  using LossAndGradient = std::function<double(ConstVectorView theta, VectorView grad)>;
  /// Writes H(theta) v (p entries) into hv.
  using HessianVector = std::function<void(ConstVectorView theta, ConstVectorView v, VectorView hv)>;

  /// p >= 1; throws std::invalid_argument otherwise.
  template <class F>
  requires std::is_invocable_r_v<double, F&, ConstVectorView, VectorView> FunctionObjective(Eigen::Index p,
                                                                                            F loss_and_gradient)
      : FunctionObjective(p, LossAndGradient(std::move(loss_and_gradient)), 0) {}

  /// Builders: each returns the objective, so that they chain on a temporary or on a variable.
  /// hv = H(theta) v, exact (has_exact_hessian_vector() becomes true).
  FunctionObjective& with_hessian_vector(HessianVector hessian_vector) &;
  /// with_hessian_vector() on a temporary: returns it as an rvalue.
  FunctionObjective&& with_hessian_vector(HessianVector hessian_vector) &&;
  /// Sets what known() returns; throws std::invalid_argument when facts.minimizer does not have p entries.
  FunctionObjective& with_known(KnownFacts facts) &;
  /// with_known() on a temporary: returns it as an rvalue.
  FunctionObjective&& with_known(KnownFacts facts) &&;
  /// Sets what name() returns (default "function").
  FunctionObjective& with_name(std::string name) &;
  /// with_name() on a temporary: returns it as an rvalue.
  FunctionObjective&& with_name(std::string name) &&;

  std::string name() const override { return name_; }
  Eigen::Index dimension() const override { return p_; }
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  bool has_exact_hessian_vector() const override { return static_cast<bool>(hessian_vector_); }
  KnownFacts known() const override { return facts_; }

 private:
  FunctionObjective(Eigen::Index p, LossAndGradient loss_and_gradient, int);

  Eigen::Index p_;
  LossAndGradient loss_and_gradient_;
  HessianVector hessian_vector_;
  KnownFacts facts_;
  std::string name_ = "function";
  ScratchPool<Vector> scratch_;  ///< the gradient that loss() discards, one per concurrent call
};

}  // namespace gradflow

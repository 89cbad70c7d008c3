#include <gradflow/core/counting_objective.hpp>

namespace gradflow {
namespace {

void count(std::atomic<long>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

EvaluationCounts CountingObjective::counts() const {
  EvaluationCounts counts;
  counts.num_loss_evals = loss_evals_.load(std::memory_order_relaxed);
  counts.num_gradient_evals = gradient_evals_.load(std::memory_order_relaxed);
  counts.num_hessian_vector_evals = hessian_vector_evals_.load(std::memory_order_relaxed);
  counts.num_hessian_evals = hessian_evals_.load(std::memory_order_relaxed);
  return counts;
}

double CountingObjective::loss(const ConstVectorView& theta) const {
  count(loss_evals_);
  return inner_.loss(theta);
}

double CountingObjective::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  count(gradient_evals_);
  return inner_.loss_and_gradient(theta, grad);
}

void CountingObjective::gradient(const ConstVectorView& theta, VectorView grad) const {
  count(gradient_evals_);
  inner_.gradient(theta, grad);
}

void CountingObjective::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  count(hessian_vector_evals_);
  inner_.hessian_vector(theta, v, hv);
}

void CountingObjective::hessian(const ConstVectorView& theta, MatrixView h) const {
  count(hessian_evals_);
  inner_.hessian(theta, h);
}

}  // namespace gradflow

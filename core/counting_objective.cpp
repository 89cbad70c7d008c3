#include <gradflow/core/counting_objective.hpp>

namespace gradflow {

double CountingObjective::loss(const ConstVectorView& theta) const {
  ++counts_.num_loss_evals;
  return inner_.loss(theta);
}

double CountingObjective::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  ++counts_.num_gradient_evals;
  return inner_.loss_and_gradient(theta, grad);
}

void CountingObjective::gradient(const ConstVectorView& theta, VectorView grad) const {
  ++counts_.num_gradient_evals;
  inner_.gradient(theta, grad);
}

void CountingObjective::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  ++counts_.num_hessian_vector_evals;
  inner_.hessian_vector(theta, v, hv);
}

void CountingObjective::hessian(const ConstVectorView& theta, MatrixView h) const {
  ++counts_.num_hessian_evals;
  inner_.hessian(theta, h);
}

}  // namespace gradflow

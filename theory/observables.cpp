#include <gradflow/theory/observables.hpp>

#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/theory/lanczos.hpp>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace gradflow {

const std::vector<std::string>& observable_names() {
  static const std::vector<std::string> names{"ntk", "sharpness", "sharpness2", "condition"};
  return names;
}

std::string parse_observables(const std::vector<std::string>& names, Observables& what) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (names[j] == names[i]) return "'" + quote_text(names[i]) + "' is listed twice";
    if (!add_observable(what, names[i])) {
      std::string known;
      for (const std::string& n : observable_names()) known += (known.empty() ? "" : ", ") + n;
      return "unknown observable '" + quote_text(names[i]) + "' (known: " + known + ")";
    }
  }
  return {};
}

bool add_observable(Observables& what, std::string_view name) {
  if (name == "ntk") {
    what.ntk = true;
  } else if (name == "sharpness") {
    what.sharpness = true;
  } else if (name == "sharpness2") {
    what.sharpness = true;
    what.sharpness_min = true;
  } else if (name == "condition" || name == "ntk_condition") {  // ntk_condition: the same, by its full name
    what.ntk = true;  // the condition is shown with the eigenvalues it comes from
    what.condition = true;
  } else {
    return false;
  }
  return true;
}

std::string to_string(const Observables& what) {
  std::string text;
  const auto add = [&](bool on, const char* name) {
    if (on) text += (text.empty() ? "" : ",") + std::string(name);
  };
  add(what.ntk && !what.condition, "ntk");
  add(what.sharpness && !what.sharpness_min, "sharpness");
  add(what.sharpness_min, "sharpness2");
  add(what.condition, "condition");
  return text.empty() ? "none" : text;
}

std::string observe_obstacle(const Objective& objective, const Observables& what) {
  if (what.needs_ntk() && objective.as_residual() == nullptr) {
    return "the ntk (and the condition) need a squared loss with residuals (least-squares, network, a "
           "ResidualObjective); '" +
           objective.name() + "' has none";
  }
  if (what.needs_hessian() && !objective.has_exact_hessian_vector()) {
    return "the sharpness needs exact Hessian-vector products; '" + objective.name() + "' has none";
  }
  return "";
}

std::string identity_violation(const Observed& observed, double loss, double grad_norm) {
  if (std::isnan(observed.ntk_min)) return "";
  const double slack = tolerances::kNtkIdentityRelative * std::abs(observed.ntk_max);
  const double lhs = grad_norm * grad_norm;
  const double rhs = 2.0 * loss * (observed.ntk_min - slack);
  if (lhs >= rhs) return "";
  char buffer[320];
  std::snprintf(buffer, sizeof buffer,
                "the identity ||grad L||^2 >= 2 ntk_min L failed: ||grad L||^2 = %.10e < 2 L ntk_min = %.10e "
                "(L = %.6e, ntk_min = %.10e, ntk_max = %.6e); a bug in gradflow or in the problem's derivatives, "
                "not a result",
                lhs, 2.0 * loss * observed.ntk_min, loss, observed.ntk_min, observed.ntk_max);
  return buffer;
}

SizeEstimate observe_memory(const Observables& what, long long p, long long n, bool dense_jacobian) {
  SizeEstimate bytes;
  const long long vectors = tolerances::kLanczosMaxVectors;
  if (what.needs_hessian()) bytes.add({std::min(p, vectors) + 8, p, 8});  // the basis, scratch, Ritz vectors
  if (what.needs_ntk()) {
    if (n <= tolerances::kMaxDenseGramResiduals) {
      bytes.add({n, n, 8, 3});  // the Gram matrix, the eigensolver's work and its tridiagonal copy
      if (dense_jacobian && static_cast<double>(n) * static_cast<double>(p) <= tolerances::kMaxDenseJacobianEntries)
        bytes.add({n, p, 8});
    } else {
      bytes.add({std::min(n, vectors) + 8, n, 8});
      bytes.add({p, 8});
    }
  }
  return bytes;
}

PathObserver::PathObserver(const Objective& objective, Observables what, long max_dense_gram)
    : objective_(objective), what_(what), max_dense_gram_(max_dense_gram) {
  const std::string obstacle = observe_obstacle(objective, what);
  if (!obstacle.empty()) throw std::invalid_argument("PathObserver: " + obstacle);
}

Observed PathObserver::at(const ConstVectorView& theta) {
  Observed out;
  if (what_.needs_ntk()) observe_ntk(theta, out);
  if (what_.needs_hessian()) observe_hessian(theta, out);
  return out;
}

void PathObserver::observe_ntk(const ConstVectorView& theta, Observed& out) {
  const ResidualObjective& f = *objective_.as_residual();
  const Eigen::Index n = f.num_residuals();
  const Eigen::Index p = f.dimension();
  if (n <= max_dense_gram_) {
    Matrix gram(n, n);
    if (f.has_gram()) {
      f.gram(theta, gram);
    } else if (static_cast<double>(n) * static_cast<double>(p) <= tolerances::kMaxDenseJacobianEntries) {
      Matrix j(n, p);
      f.jacobian(theta, j);
      gram.setZero();
      gram.selfadjointView<Eigen::Lower>().rankUpdate(j);
      gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
    } else {
      Vector e = Vector::Zero(n), jt(p), col(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        e[i] = 1.0;
        f.jtv(theta, e, jt);
        f.jv(theta, jt, col);
        gram.col(i) = col;
        e[i] = 0.0;
      }
      counts_.gram_products += n;
      gram = 0.5 * (gram + gram.transpose()).eval();
    }
    ++counts_.gram_matrices;
    const Eigen::SelfAdjointEigenSolver<Matrix> eig(gram, Eigen::EigenvaluesOnly);
    out.ntk_min = eig.eigenvalues()[0];
    out.ntk_max = eig.eigenvalues()[n - 1];
  } else {
    Vector r(n), jt(p);
    f.residuals(theta, r);
    const auto apply = [&](const Vector& v, Vector& result) {
      f.jtv(theta, v, jt);
      f.jv(theta, jt, result);
    };
    LanczosOptions options;
    options.rtol = tolerances::kLanczosObserveRtol;
    options.min_iterations = tolerances::kLanczosColdMinIterations;
    const LanczosResult lanczos = lanczos_extremes(apply, n, r, options, &ntk_workspace_);
    counts_.gram_products += lanczos.products;
    out.ntk_min = lanczos.min;
    out.ntk_max = lanczos.max;
  }
  if (what_.condition) {
    out.condition = out.ntk_min > 0.0 ? out.ntk_max / out.ntk_min : std::numeric_limits<double>::infinity();
  }
}

void PathObserver::observe_hessian(const ConstVectorView& theta, Observed& out) {
  const Eigen::Index p = objective_.dimension();
  const auto apply = [&](const Vector& v, Vector& result) { objective_.hessian_vector(theta, v, result); };
  LanczosOptions options;
  options.rtol = tolerances::kLanczosObserveRtol;
  options.want_min = what_.sharpness_min;
  Vector start;
  if (v_max_.size() == p) {
    start = v_max_;
    if (what_.sharpness_min && v_min_.size() == p) start += v_min_;
    options.min_iterations = 1;
  } else {
    start = Vector::Zero(p);  // a seeded random start
    options.min_iterations = tolerances::kLanczosColdMinIterations;
  }
  const LanczosResult lanczos = lanczos_extremes(apply, p, start, options, &hessian_workspace_);
  counts_.hessian_vector += lanczos.products;
  v_max_ = lanczos.v_max;
  v_min_ = lanczos.v_min;
  out.sharpness = lanczos.max;
  if (what_.sharpness_min) out.sharpness_min = lanczos.min;
}

}  // namespace gradflow

/// @file
/// What the PL theorem watches along a path (docs/theory.md §8), computed at the recorded rows of a
/// flow or descent run on request (FlowOptions::observe, DescentOptions::observe):
///   ntk        ntk_min, ntk_max: the extreme eigenvalues of the empirical NTK J J^T (n x n) of a squared
///              loss L = 1/2 ||r||^2. For n <= 2000 the Gram matrix is formed (Mlp::gram, or J J^T from
///              the dense Jacobian, or n products J (J^T e_i)) and decomposed by a symmetric eigensolver
///              (to round-off); above 2000 by Lanczos on products J (J^T v) started from r (estimates).
///   sharpness  the largest Hessian eigenvalue, by Lanczos on exact Hessian-vector products, warm-started
///              from the previous row's eigenvector (an estimate, converged to a relative residual of
///              1e-7: core/tolerances.hpp);
///   sharpness2 also sharpness_min, the smallest (most negative) Hessian eigenvalue;
///   condition  ntk_max / ntk_min (+inf when ntk_min <= 0), shown with the ntk it comes from; also named
///              ntk_condition (the sweeps' runs.csv reports it at theta0 beside input_condition^2).
/// Because ||grad L||^2 = r^T J J^T r >= lambda_min(J J^T) ||r||^2 = 2 ntk_min L, the PL ratio
/// ||grad L||^2 / (2 (L - L_min)) is >= ntk_min at every row (L_min >= 0): identity_violation() checks
/// it, and a violation is a bug (of gradflow or of the problem's derivatives), never a result.
/// Their work is counted apart from the run's gradients (ObserveCounts, Stats::num_observe_*).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/size_estimate.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/theory/lanczos.hpp>

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// What to observe; the command line's --observe list names them ntk, sharpness, sharpness2, condition.
struct Observables {
  bool ntk = false;            ///< ntk_min and ntk_max
  bool sharpness = false;      ///< sharpness
  bool sharpness_min = false;  ///< sharpness_min too ("sharpness2")
  bool condition = false;      ///< ntk_max / ntk_min (computes the ntk)

  bool any() const { return ntk || sharpness || sharpness_min || condition; }  ///< anything is asked
  bool needs_ntk() const { return ntk || condition; }                          ///< the NTK must be computed
  bool needs_hessian() const { return sharpness || sharpness_min; }            ///< Hessian eigenvalues are needed
};

/// "ntk,sharpness2" and so on: the names of what is asked, in the order above ("none" when nothing is).
std::string to_string(const Observables& what);
/// Adds the item named name (ntk, sharpness, sharpness2, condition or ntk_condition) to what; false for an
/// unknown name.
bool add_observable(Observables& what, std::string_view name);
/// The names --observe lists: ntk, sharpness, sharpness2, condition (add_observable() also takes
/// ntk_condition).
const std::vector<std::string>& observable_names();
/// The list as asked (each item a name of observable_names()) into what: "" when every item is known and
/// none is listed twice, else why not ("unknown observable 'x' (known: ...)", "'ntk' is listed twice").
/// The command line, the sweep file and the Python module all read their lists through it.
std::string parse_observables(const std::vector<std::string>& names, Observables& what);

/// The observed values at one row; NaN where not observed.
struct Observed {
  double ntk_min = std::numeric_limits<double>::quiet_NaN();        ///< smallest eigenvalue of J J^T
  double ntk_max = std::numeric_limits<double>::quiet_NaN();        ///< largest eigenvalue of J J^T
  double condition = std::numeric_limits<double>::quiet_NaN();      ///< ntk_max / ntk_min; +inf when ntk_min <= 0
  double sharpness = std::numeric_limits<double>::quiet_NaN();      ///< largest Hessian eigenvalue (estimate)
  double sharpness_min = std::numeric_limits<double>::quiet_NaN();  ///< smallest Hessian eigenvalue (estimate)
};

/// The work of the observations, apart from the run's own evaluations.
struct ObserveCounts {
  long hessian_vector = 0;  ///< Hessian-vector products (sharpness)
  long gram_products = 0;   ///< products J (J^T v) (Lanczos on the NTK, or the Gram matrix column by column)
  long gram_matrices = 0;   ///< dense Gram matrices formed and decomposed
};

/// Why what cannot be observed on objective ("" when it can): the ntk needs residual structure
/// (Objective::as_residual()), the sharpness exact Hessian-vector products.
std::string observe_obstacle(const Objective& objective, const Observables& what);

/// ||grad L||^2 >= 2 L (ntk_min - 1e-9 ntk_max) (core/tolerances.hpp): "" when it holds (or the ntk was
/// not observed), else what failed, with the numbers.
std::string identity_violation(const Observed& observed, double loss, double grad_norm);

/// The most memory the observation of what can take on a problem of p parameters and n residuals (0 for
/// no residual structure), in bytes, for the check against the memory limit (core/size_estimate.hpp):
/// the sharpness's Lanczos basis (up to kLanczosMaxVectors vectors of p), its scratch and Ritz vectors;
/// the ntk's dense Gram matrix with the eigensolver's copies (n <= kMaxDenseGramResiduals), a dense
/// n x p Jacobian when one is formed for it (dense_jacobian: false for the network, whose Gram matrix
/// comes from its own formula, Mlp::gram), or its Lanczos basis of up to kLanczosMaxVectors vectors of n.
SizeEstimate observe_memory(const Observables& what, long long p, long long n, bool dense_jacobian);

/// Computes the observables at the points it is given, keeping the Lanczos vectors between calls for
/// the warm start. The objective must outlive it and have no obstacle (throws std::invalid_argument).
class PathObserver {
 public:
  /// max_dense_gram: the largest n decomposed densely (above it, Lanczos); a test lowers it to compare
  /// the two paths on one problem.
  PathObserver(const Objective& objective, Observables what, long max_dense_gram = tolerances::kMaxDenseGramResiduals);
  /// The observables at theta (NaN for those not asked); adds the work to counts() and keeps the Hessian
  /// Ritz vectors as the next call's warm start.
  Observed at(const ConstVectorView& theta);
  const ObserveCounts& counts() const { return counts_; }  ///< the work of every at() call so far
  const Observables& what() const { return what_; }        ///< what this observer computes

 private:
  void observe_ntk(const ConstVectorView& theta, Observed& out);
  void observe_hessian(const ConstVectorView& theta, Observed& out);

  const Objective& objective_;
  Observables what_;
  long max_dense_gram_;
  ObserveCounts counts_;
  Vector v_max_, v_min_;  ///< the previous row's Hessian Ritz vectors
  LanczosWorkspace hessian_workspace_, ntk_workspace_;
};

}  // namespace gradflow

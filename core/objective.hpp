/// @file
/// The objective interface: a C^2 function L: R^p -> R, bounded below, with the derivative information
/// that gradient flow (theta' = -grad L) and gradient descent need, and what is known about it exactly.
///
/// The contract (docs/reference/library.md lists it with the defaults):
///   name()                    short name, used in reports (pure virtual)
///   dimension()               p (pure virtual)
///   loss(theta)               L(theta) (pure virtual)
///   loss_and_gradient(theta, grad)  L(theta), and grad L(theta) written to grad (pure virtual)
///   gradient(theta, grad)     default: loss_and_gradient, the loss discarded
///   hessian_vector(theta, v, hv)    default: central difference of gradients (below);
///                             has_exact_hessian_vector() says whether an override is exact (default false)
///   hessian(theta, h)         dense Hessian; default throws std::logic_error; has_hessian() (default false)
///   has_constant_hessian()    the Hessian is the same everywhere (default false)
///   known()                   exact facts (default: nothing known)
///   exact_flow(theta0, t)     default throws std::logic_error; has_exact_flow() (default false)
///   as_residual()             the squared-loss view (core/residual_objective.hpp); default nullptr
///   set_threads(n), threads() threads of one evaluation, for objectives that can use several; default 1
///   field_is_gradient()       false for a flow model whose field is not grad loss() (default true)
/// Objectives without a class of their own: FunctionObjective (core/function_objective.hpp).
///
/// Derivative information travels with the problem, not with the solver: a problem that has an exact
/// Hessian-vector product or dense Hessian says so, and the default Hessian-vector product is a central
/// difference of gradients, H v ~ (grad L(theta + h v) - grad L(theta - h v)) / (2 h).
///
/// Vectors are passed as Eigen::Ref so that CVODE's N_Vector storage and odeint's Eigen vectors are
/// used in place.
///
/// Thread safety. The const member functions of the built-in objectives (Quadratic, LeastSquares,
/// Karimi, Rosenbrock, Mlp, FunctionObjective, CountingObjective, and the defaults of Objective and
/// ResidualObjective) may be called concurrently from any number of threads on one object, and give
/// each caller the bits it would get alone: so may runs (descend(), simulate_flow(), ...) that share one
/// objective. Their scratch buffers are per call (core/scratch_pool.hpp: one workspace taken by one
/// atomic exchange, a spare for each overlapping caller), never shared between calls. Not safe
/// concurrently with any call on the same object: set_threads() and the other non-const members
/// (builders, assignment, destruction). A FunctionObjective shared between threads needs callables that
/// are themselves safe to call concurrently; a CountingObjective is as safe as the objective it wraps.
/// A subclass of your own is safe if its const members are: keep per-call state in a ScratchPool (or on
/// the stack), never in a mutable member. The vectors passed in belong to the caller: two threads must
/// not write one output vector at once.
#pragma once

#include <Eigen/Core>

#include <optional>
#include <string>

namespace gradflow {

class ResidualObjective;

using Vector = Eigen::VectorXd;                    ///< dense column vector of doubles (parameters, gradients)
using Matrix = Eigen::MatrixXd;                    ///< dense column-major matrix of doubles (Hessians, Jacobians)
using VectorView = Eigen::Ref<Vector>;             ///< writable view of contiguous vector storage (output arguments)
using ConstVectorView = Eigen::Ref<const Vector>;  ///< read-only view of a vector (input arguments)
using MatrixView = Eigen::Ref<Matrix>;             ///< writable view of a matrix (output arguments)

/// What is known exactly about an objective. An empty optional means "not known"; nothing here is
/// estimated. Without min_value the rate bound, the PL ratio and the Polyak step are unavailable (the
/// results say so): they are all stated relative to inf L. A minimizer given without min_value gives
/// it: the runs use resolved_facts(), L_min = L(minimizer).
struct KnownFacts {
  std::optional<double> min_value{};  ///< inf L (the built-in problems: 0, or least squares' residual floor)
  std::optional<double> mu{};         ///< PL constant on all of R^p: 1/2 ||grad L||^2 >= mu (L - min_value)
  std::optional<double> beta{};       ///< smoothness: grad L is beta-Lipschitz on all of R^p
  std::optional<Vector> minimizer{};  ///< the global minimizer, when it is unique
};

class Objective;

/// The facts an objective declares, with min_value derived from the minimizer when only the minimizer
/// is declared (L_min = L(minimizer), one loss evaluation): what every run uses.
KnownFacts resolved_facts(const Objective& objective);

/// Abstract base of every problem: a C^2 loss L: R^p -> R with its gradient and, optionally, Hessian
/// information, exact flow and known facts (the contract above).
class Objective {
 public:
  virtual ~Objective() = default;

  /// Short name as used on the command line ("quadratic", "least-squares", ...).
  virtual std::string name() const = 0;
  /// p, the number of parameters: every theta, grad and v has dimension() entries.
  virtual Eigen::Index dimension() const = 0;

  /// L(theta); theta has dimension() entries.
  virtual double loss(const ConstVectorView& theta) const = 0;
  /// Returns L(theta) and writes grad L(theta) into grad, in one pass.
  virtual double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const = 0;
  /// Writes grad L(theta) into grad. Default: loss_and_gradient(), the loss discarded.
  virtual void gradient(const ConstVectorView& theta, VectorView grad) const;

  /// hv = Hessian(theta) v. The default is the central difference of gradients described above.
  virtual void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const;
  /// True when hessian_vector() is exact rather than a finite difference (default false).
  virtual bool has_exact_hessian_vector() const { return false; }
  /// False when loss_and_gradient() returns a vector field that is not the gradient of loss() (the central
  /// flow, discrete/flow_models.hpp): the flow's dissipation identity L(a) - L(b) = integral of ||g||^2 is
  /// then not checked.
  virtual bool field_is_gradient() const { return true; }

  /// Dense Hessian, for problems that have one (has_hessian()); otherwise throws std::logic_error.
  virtual bool has_hessian() const { return false; }
  /// Writes the dense Hessian at theta into h (p x p); the default throws std::logic_error.
  virtual void hessian(const ConstVectorView& theta, MatrixView h) const;
  /// True when the Hessian is the same at every point (quadratics, least squares): a solver may then
  /// factor it once.
  virtual bool has_constant_hessian() const { return false; }

  /// What is known exactly about the objective (default: nothing). Runs use resolved_facts().
  virtual KnownFacts known() const { return {}; }

  /// The exact solution of theta' = -grad L(theta), theta(0) = theta0, for problems that have one
  /// (has_exact_flow()); otherwise throws std::logic_error.
  virtual bool has_exact_flow() const { return false; }
  /// theta(t), the exact flow from theta0 at time t; the default throws std::logic_error.
  virtual Vector exact_flow(const ConstVectorView& theta0, double t) const;

  /// Threads of one evaluation, for an objective that can use several (the network, problems/mlp.hpp);
  /// the others ignore the request. 0 = all cores. Returns the threads it will use (>= 1: fewer than asked
  /// when the system refuses some); its results must not depend on it. Not to be called while any
  /// thread evaluates this instance (not const: see "Thread safety" above). Default: 1, whatever is asked.
  virtual int set_threads(int threads);
  /// Threads one evaluation uses (>= 1), as set by set_threads(). Default: 1.
  virtual int threads() const { return 1; }

  /// The squared-loss view of the objective (L = 1/2 ||r||^2, with residuals and a Jacobian), which the
  /// PL certificate needs; nullptr for an objective that has none. ResidualObjective returns itself.
  virtual const ResidualObjective* as_residual() const { return nullptr; }

 protected:
  /// Throws std::invalid_argument("<function>(): <what>") when v does not have dimension() entries.
  void check_dimension(const char* function, Eigen::Index size) const;
};

}  // namespace gradflow

#include <gradflow/flow/detail/cvode_linear_solvers.hpp>

#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/detail/sundials_compat.hpp>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_pcg.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <exception>

namespace gradflow::detail {
namespace {

using Map = Eigen::Map<Vector>;
using ConstMap = Eigen::Map<const Vector>;

using tolerances::kGammaChange;
using tolerances::kStepsBetweenHessians;

// ---------------------------------------------------------------------------------------------
// The matrix-embedded Hessian solver, for exact Hessians.

struct HessianContent {
  HessianContent(void* memory_in, GradientFlowField& field_in, long p, bool constant_in)
      : memory(memory_in),
        field(&field_in),
        constant(constant_in),
        hessian(p, p),
        shifted(p, p),
        work(p),
        cholesky(p),
        lu(p) {}
  void* memory;
  GradientFlowField* field;
  bool constant;
  Matrix hessian;
  bool have_hessian = false;
  long steps_at_hessian = 0;
  long convergence_failures_seen = 0;
  long evaluations = 0;
  long factorizations = 0;  // eigendecompositions (constant Hessian) or factorizations of I + gamma H
  // Constant Hessian: its eigendecomposition.
  Eigen::SelfAdjointEigenSolver<Matrix> spectrum;
  // Otherwise: a factorization of I + gamma_f H.
  Matrix shifted;
  Vector work;
  Eigen::LLT<Matrix, Eigen::Lower> cholesky;
  Eigen::PartialPivLU<Matrix> lu;
  bool use_cholesky = false;
  double gamma_factored = 0.0;
  bool factored = false;
  long last_flag = sundials::kLinearSolverSuccess;
};

HessianContent& hessian_content(SUNLinearSolver s) { return *static_cast<HessianContent*>(s->content); }

SUNLinearSolver_Type embedded_type(SUNLinearSolver) { return SUNLINEARSOLVER_MATRIX_EMBEDDED; }
SUNLinearSolver_ID custom_id(SUNLinearSolver) { return SUNLINEARSOLVER_CUSTOM; }
int no_op(SUNLinearSolver) { return sundials::kLinearSolverSuccess; }

// Refreshes the Hessian at the current Newton iterate when CVODE's reuse rule says so.
int refresh_hessian(HessianContent& c, bool& refreshed) {
  refreshed = false;
  long steps = 0, failures = 0;
  CVodeGetNumSteps(c.memory, &steps);
  CVodeGetNumNonlinSolvConvFails(c.memory, &failures);
  const bool stale =
      !c.have_hessian ||
      (!c.constant && (steps - c.steps_at_hessian >= kStepsBetweenHessians || failures > c.convergence_failures_seen));
  c.convergence_failures_seen = failures;
  if (!stale) return sundials::kLinearSolverSuccess;
  N_Vector y = nullptr;
  if (CVodeGetCurrentState(c.memory, &y) != CV_SUCCESS || y == nullptr) return sundials::kLinearSolverUnrecoverable;
  const ConstMap theta(N_VGetArrayPointer(y), N_VGetLength_Serial(y));
  c.field->jacobian(theta, c.hessian);  // -H
  c.hessian = -c.hessian;
  ++c.evaluations;
  if (!c.hessian.allFinite()) return SUNLS_PACKAGE_FAIL_REC;
  c.have_hessian = true;
  c.steps_at_hessian = steps;
  refreshed = true;
  if (c.constant) {
    c.spectrum.compute(c.hessian);
    ++c.factorizations;
    if (c.spectrum.info() != Eigen::Success) return sundials::kLinearSolverUnrecoverable;
  }
  return sundials::kLinearSolverSuccess;
}

int hessian_solve(SUNLinearSolver s, SUNMatrix, N_Vector x, N_Vector b, sunrealtype) {
  HessianContent& c = hessian_content(s);
  try {
    bool refreshed = false;
    if (const int flag = refresh_hessian(c, refreshed); flag != sundials::kLinearSolverSuccess)
      return c.last_flag = flag;
    double gamma = 0.0;
    CVodeGetCurrentGamma(c.memory, &gamma);
    const long p = N_VGetLength_Serial(b);
    const ConstMap rhs(N_VGetArrayPointer(b), p);
    Map out(N_VGetArrayPointer(x), p);
    if (c.constant) {
      // (I + gamma V diag(lambda) V^T)^-1 = V diag(1 / (1 + gamma lambda)) V^T, with this gamma.
      const Matrix& v = c.spectrum.eigenvectors();
      c.work.noalias() = v.transpose() * rhs;
      const auto denominator = 1.0 + gamma * c.spectrum.eigenvalues().array();
      if (!(denominator.abs().minCoeff() > tolerances::kMinNewtonPivot)) return c.last_flag = SUNLS_PACKAGE_FAIL_REC;
      c.work.array() /= denominator;
      out.noalias() = v * c.work;
      return c.last_flag = sundials::kLinearSolverSuccess;
    }
    if (refreshed || !c.factored || std::abs(gamma / c.gamma_factored - 1.0) > kGammaChange) {
      c.shifted = gamma * c.hessian;
      c.shifted.diagonal().array() += 1.0;
      c.cholesky.compute(c.shifted);
      ++c.factorizations;
      c.use_cholesky = c.cholesky.info() == Eigen::Success;
      if (!c.use_cholesky) {
        c.lu.compute(c.shifted);
        if (!(c.lu.matrixLU().diagonal().cwiseAbs().minCoeff() > 0.0)) {
          c.factored = false;
          return c.last_flag = SUNLS_LUFACT_FAIL;  // recoverable: CVODE retries with a smaller step
        }
      }
      c.gamma_factored = gamma;
      c.factored = true;
    }
    if (c.use_cholesky) {
      out = rhs;
      c.cholesky.solveInPlace(out);
    } else {
      out = c.lu.solve(rhs);
    }
    // The factorization is for gamma_f; scale as CVODE does for direct solvers with a stale gamma.
    const double ratio = gamma / c.gamma_factored;
    if (ratio != 1.0) out *= 2.0 / (1.0 + ratio);
    return c.last_flag = sundials::kLinearSolverSuccess;
  } catch (const std::exception&) {
    return c.last_flag = sundials::kLinearSolverUnrecoverable;
  }
}

// ---------------------------------------------------------------------------------------------
// The general dense LU solver, for difference-quotient Jacobians.

struct DenseLuContent {
  explicit DenseLuContent(long p) : lu(p) {}
  Eigen::PartialPivLU<Matrix> lu;
  long last_flag = sundials::kLinearSolverSuccess;
};

DenseLuContent& dense_lu_content(SUNLinearSolver s) { return *static_cast<DenseLuContent*>(s->content); }

SUNLinearSolver_Type direct_type(SUNLinearSolver) { return SUNLINEARSOLVER_DIRECT; }

int dense_lu_setup(SUNLinearSolver s, SUNMatrix a) {
  DenseLuContent& c = dense_lu_content(s);
  try {
    const long p = SUNDenseMatrix_Rows(a);
    c.lu.compute(Eigen::Map<const Matrix>(SUNDenseMatrix_Data(a), p, p));
    if (!(c.lu.matrixLU().diagonal().cwiseAbs().minCoeff() > 0.0)) return c.last_flag = SUNLS_LUFACT_FAIL;
    return c.last_flag = sundials::kLinearSolverSuccess;
  } catch (const std::exception&) {
    return c.last_flag = sundials::kLinearSolverUnrecoverable;
  }
}

int dense_lu_solve(SUNLinearSolver s, SUNMatrix, N_Vector x, N_Vector b, sunrealtype) {
  DenseLuContent& c = dense_lu_content(s);
  const long p = N_VGetLength_Serial(b);
  Map(N_VGetArrayPointer(x), p) = c.lu.solve(ConstMap(N_VGetArrayPointer(b), p));
  return c.last_flag = sundials::kLinearSolverSuccess;
}

// The two operations both solvers share, for their content type.
template <class Content>
sunindextype last_flag(SUNLinearSolver s) {
  return static_cast<Content*>(s->content)->last_flag;
}

template <class Content>
int free_solver(SUNLinearSolver s) {
  if (s == nullptr) return sundials::kLinearSolverSuccess;
  delete static_cast<Content*>(s->content);
  s->content = nullptr;
  SUNLinSolFreeEmpty(s);
  return sundials::kLinearSolverSuccess;
}

}  // namespace

SUNLinearSolver make_embedded_hessian_solver(void* cvode_memory, GradientFlowField& field, long p,
                                             bool constant_hessian, SUNContext context) {
  SUNLinearSolver s = SUNLinSolNewEmpty(context);
  if (s == nullptr) return nullptr;
  s->content = new HessianContent(cvode_memory, field, p, constant_hessian);
  s->ops->gettype = embedded_type;
  s->ops->getid = custom_id;
  s->ops->initialize = no_op;
  s->ops->solve = hessian_solve;
  s->ops->lastflag = last_flag<HessianContent>;
  s->ops->free = free_solver<HessianContent>;
  return s;
}

long embedded_hessian_solver_evaluations(SUNLinearSolver solver) { return hessian_content(solver).evaluations; }
long embedded_hessian_solver_factorizations(SUNLinearSolver solver) { return hessian_content(solver).factorizations; }

SUNLinearSolver make_dense_lu_solver(long p, SUNContext context) {
  SUNLinearSolver s = SUNLinSolNewEmpty(context);
  if (s == nullptr) return nullptr;
  s->content = new DenseLuContent(p);
  s->ops->gettype = direct_type;
  s->ops->getid = custom_id;
  s->ops->initialize = no_op;
  s->ops->setup = dense_lu_setup;
  s->ops->solve = dense_lu_solve;
  s->ops->lastflag = last_flag<DenseLuContent>;
  s->ops->free = free_solver<DenseLuContent>;
  return s;
}

SUNLinearSolver make_krylov_solver(N_Vector y, KrylovMethod method, long p, SUNContext context) {
  if (method == KrylovMethod::pcg) {
    // PCG's memory does not grow with its budget; in exact arithmetic it ends within p iterations, in
    // floating point it may need a few more, so the budget is not capped by p.
    return SUNLinSol_PCG(y, SUN_PREC_NONE, static_cast<int>(tolerances::kPcgMaxIterations), context);
  }
  // GMRES keeps one vector per iteration: a space of more than p vectors cannot be used.
  const long dimension = std::min(p, tolerances::kGmresMaxKrylovDimension);
  SUNLinearSolver solver = SUNLinSol_SPGMR(y, SUN_PREC_NONE, static_cast<int>(dimension), context);
  if (solver != nullptr && SUNLinSol_SPGMRSetMaxRestarts(solver, tolerances::kGmresMaxRestarts) != 0) {
    SUNLinSolFree(solver);
    return nullptr;
  }
  return solver;
}

int set_krylov_tolerance(void* cvode_memory) {
  return CVodeSetEpsLin(cvode_memory, tolerances::kKrylovLinearToleranceFactor);
}

}  // namespace gradflow::detail

#include "flow/detail/symmetric_dense_solver.hpp"

#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <exception>

namespace gradflow::detail {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

struct Content {
  Content(long p, bool symmetric_in) : symmetric(symmetric_in), cholesky(p), lu(p) {}
  bool symmetric;
  bool use_cholesky = false;
  Eigen::LLT<Matrix, Eigen::Lower> cholesky;
  Eigen::PartialPivLU<Matrix> lu;
  long last_flag = SUNLS_SUCCESS;
};

Content& content(SUNLinearSolver s) { return *static_cast<Content*>(s->content); }

SUNLinearSolver_Type get_type(SUNLinearSolver) { return SUNLINEARSOLVER_DIRECT; }
SUNLinearSolver_ID get_id(SUNLinearSolver) { return SUNLINEARSOLVER_CUSTOM; }
int initialize(SUNLinearSolver) { return SUNLS_SUCCESS; }

int setup(SUNLinearSolver s, SUNMatrix a) {
  Content& c = content(s);
  try {
    const long p = SUNDenseMatrix_Rows(a);
    const Eigen::Map<const Matrix> m(SUNDenseMatrix_Data(a), p, p);
    c.use_cholesky = false;
    if (c.symmetric) {
      c.cholesky.compute(m);
      c.use_cholesky = c.cholesky.info() == Eigen::Success;
    }
    if (!c.use_cholesky) {
      c.lu.compute(m);
      // A zero pivot: singular. CVODE treats a positive flag as recoverable (it retries with a
      // smaller step, which moves I - gamma J towards I).
      if (!(c.lu.matrixLU().diagonal().cwiseAbs().minCoeff() > 0.0)) {
        c.last_flag = SUNLS_LUFACT_FAIL;
        return SUNLS_LUFACT_FAIL;
      }
    }
    c.last_flag = SUNLS_SUCCESS;
    return SUNLS_SUCCESS;
  } catch (const std::exception&) {
    c.last_flag = SUNLS_PACKAGE_FAIL_UNREC;
    return SUNLS_PACKAGE_FAIL_UNREC;
  }
}

int solve(SUNLinearSolver s, SUNMatrix, N_Vector x, N_Vector b, sunrealtype) {
  Content& c = content(s);
  const long p = N_VGetLength_Serial(b);
  const Eigen::Map<const Vector> rhs(N_VGetArrayPointer(b), p);
  Eigen::Map<Vector> out(N_VGetArrayPointer(x), p);
  if (c.use_cholesky) {
    out = rhs;
    c.cholesky.solveInPlace(out);
  } else {
    out = c.lu.solve(rhs);
  }
  c.last_flag = SUNLS_SUCCESS;
  return SUNLS_SUCCESS;
}

sunindextype last_flag(SUNLinearSolver s) { return content(s).last_flag; }

int free_solver(SUNLinearSolver s) {
  if (s == nullptr) return SUNLS_SUCCESS;
  delete static_cast<Content*>(s->content);
  s->content = nullptr;
  SUNLinSolFreeEmpty(s);
  return SUNLS_SUCCESS;
}

}  // namespace

SUNLinearSolver make_symmetric_dense_solver(long p, bool symmetric, SUNContext context) {
  SUNLinearSolver s = SUNLinSolNewEmpty(context);
  if (s == nullptr) return nullptr;
  s->content = new Content(p, symmetric);
  s->ops->gettype = get_type;
  s->ops->getid = get_id;
  s->ops->initialize = initialize;
  s->ops->setup = setup;
  s->ops->solve = solve;
  s->ops->lastflag = last_flag;
  s->ops->free = free_solver;
  return s;
}

}  // namespace gradflow::detail

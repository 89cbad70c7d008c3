// The bare CVODE peer (bare_peers.hpp): BDF with SUNDIALS' dense LU and the exact dense Hessian, or
// with SPGMR and exact Hessian-vector products; one call of CVode to t_end, nothing else.
#include "bare_peers.hpp"

#include <gradflow/core/tolerances.hpp>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>

namespace gradflow::bench {
namespace {

struct Data {
  const Objective* f = nullptr;
  Eigen::Index p = 0;
  long evals = 0, jacs = 0, hvps = 0;
};

Eigen::Map<const Vector> view(N_Vector v, Eigen::Index p) { return {N_VGetArrayPointer(v), p}; }
Eigen::Map<Vector> mutable_view(N_Vector v, Eigen::Index p) { return {N_VGetArrayPointer(v), p}; }

int rhs(sunrealtype, N_Vector y, N_Vector ydot, void* user_data) {
  auto* d = static_cast<Data*>(user_data);
  try {
    auto out = mutable_view(ydot, d->p);
    d->f->loss_and_gradient(view(y, d->p), out);
    out = -out;
    ++d->evals;
    return 0;
  } catch (const std::exception&) {
    return -1;
  }
}

// J = -H(y), written into SUNDIALS' column-major dense matrix.
int dense_jacobian(sunrealtype, N_Vector y, N_Vector, SUNMatrix jac, void* user_data, N_Vector, N_Vector, N_Vector) {
  auto* d = static_cast<Data*>(user_data);
  try {
    Eigen::Map<Matrix> h(SUNDenseMatrix_Data(jac), d->p, d->p);
    d->f->hessian(view(y, d->p), h);
    h = -h;
    ++d->jacs;
    return 0;
  } catch (const std::exception&) {
    return -1;
  }
}

// Jv = -H(y) v.
int jacobian_times(N_Vector v, N_Vector jv, sunrealtype, N_Vector y, N_Vector, void* user_data, N_Vector) {
  auto* d = static_cast<Data*>(user_data);
  try {
    auto out = mutable_view(jv, d->p);
    d->f->hessian_vector(view(y, d->p), view(v, d->p), out);
    out = -out;
    ++d->hvps;
    return 0;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

BareResult bare_cvode_bdf(const Objective& f, const Vector& theta0, double t_end, double rtol, double atol,
                          bool krylov) {
  BareResult result;
  Data data;
  data.f = &f;
  data.p = f.dimension();
  const auto n = static_cast<sunindextype>(data.p);
  SUNContext context = nullptr;
  if (SUNContext_Create(nullptr, &context) != 0) {
    result.message = "SUNContext_Create failed";
    return result;
  }
  N_Vector y = N_VNew_Serial(n, context);
  mutable_view(y, data.p) = theta0;
  void* memory = CVodeCreate(CV_BDF, context);
  SUNMatrix matrix = krylov ? nullptr : SUNDenseMatrix(n, n, context);
  // GMRES with cvode-bdf-krylov's budget and linear tolerance (core/tolerances.hpp), so that both sides
  // do the same work.
  const auto krylov_dimension = static_cast<int>(std::min<long>(data.p, tolerances::kGmresMaxKrylovDimension));
  SUNLinearSolver solver =
      krylov ? SUNLinSol_SPGMR(y, SUN_PREC_NONE, krylov_dimension, context) : SUNLinSol_Dense(y, matrix, context);
  if (krylov) SUNLinSol_SPGMRSetMaxRestarts(solver, tolerances::kGmresMaxRestarts);
  int flag = CVodeInit(memory, rhs, 0.0, y);
  if (flag == CV_SUCCESS) flag = CVodeSStolerances(memory, rtol, atol);
  if (flag == CV_SUCCESS) flag = CVodeSetUserData(memory, &data);
  if (flag == CV_SUCCESS) flag = CVodeSetMaxNumSteps(memory, 100000000L);
  if (flag == CV_SUCCESS) flag = CVodeSetStopTime(memory, t_end);
  if (flag == CV_SUCCESS) flag = CVodeSetLinearSolver(memory, solver, matrix);
  if (flag == CV_SUCCESS && krylov) flag = CVodeSetEpsLin(memory, tolerances::kKrylovLinearToleranceFactor);
  if (flag == CV_SUCCESS)
    flag = krylov ? CVodeSetJacTimes(memory, nullptr, jacobian_times) : CVodeSetJacFn(memory, dense_jacobian);
  sunrealtype t = 0.0;
  if (flag == CV_SUCCESS) flag = CVode(memory, t_end, y, &t, CV_NORMAL);
  if (flag >= 0) {
    result.ok = true;
    result.theta = view(y, data.p);
    CVodeGetNumSteps(memory, &result.steps);
    long error_fails = 0, convergence_fails = 0;
    CVodeGetNumErrTestFails(memory, &error_fails);
    CVodeGetNumNonlinSolvConvFails(memory, &convergence_fails);
    result.rejected = error_fails + convergence_fails;
  } else {
    char* name = CVodeGetReturnFlagName(flag);
    result.message = std::string("CVODE returned ") + (name ? name : std::to_string(flag));
    std::free(name);
  }
  result.grad_evals = data.evals;
  result.jac_evals = data.jacs;
  result.hvp_evals = data.hvps;
  CVodeFree(&memory);
  SUNLinSolFree(solver);
  if (matrix) SUNMatDestroy(matrix);
  N_VDestroy(y);
  SUNContext_Free(&context);
  return result;
}

}  // namespace gradflow::bench

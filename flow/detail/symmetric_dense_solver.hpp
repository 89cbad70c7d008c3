// A dense direct linear solver for CVODE's Newton systems (I - gamma J) x = b, backed by Eigen's
// blocked factorizations instead of SUNDIALS' unblocked dense LU.
//
// For a gradient flow J = -H, so I - gamma J = I + gamma H is symmetric, and positive definite
// whenever H is positive semidefinite (convex problems, and nonconvex ones near a minimizer): then a
// Cholesky factorization (LLT) does, at a third of LU's cost. When Cholesky fails (H indefinite and
// gamma large), or when the Jacobian is CVODE's difference quotient (not exactly symmetric), it
// falls back to LU with partial pivoting.
#pragma once

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>

namespace gradflow::detail {

// A new solver for p x p systems; free it with SUNLinSolFree. symmetric: the matrices are symmetric
// (an exact Hessian), so Cholesky is tried first.
SUNLinearSolver make_symmetric_dense_solver(long p, bool symmetric, SUNContext context);

}  // namespace gradflow::detail

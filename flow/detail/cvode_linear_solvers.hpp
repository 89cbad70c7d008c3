// The linear solvers the CVODE back end gives BDF for its Newton systems (I - gamma J) x = b: two
// custom ones backed by Eigen's blocked factorizations instead of SUNDIALS' unblocked dense LU, and
// SUNDIALS' own PCG or GMRES, configured, for cvode-bdf-krylov. (cvode-adams uses no linear solver.)
//
// - make_embedded_hessian_solver: the matrix-embedded Hessian solver, for problems with an exact
//   dense Hessian. For a gradient flow J = -H, so I - gamma J = I + gamma H is symmetric, and
//   positive definite whenever H is positive semidefinite. The solver is matrix-embedded (CVODE
//   hands it no matrix): it evaluates the Hessian itself, at the start, every 50 steps and after a
//   Newton convergence failure (CVODE's own rule for Jacobian reuse). When the Hessian is constant
//   (Objective::has_constant_hessian) it is decomposed once, H = V diag(lambda) V^T, and every solve
//   is x = V diag(1 / (1 + gamma lambda)) V^T b with the current gamma: an exact Newton matrix at
//   O(p^2) per solve. Otherwise I + gamma H is factored by Cholesky (LU with partial pivoting when it
//   is not positive definite) whenever the Hessian is refreshed or gamma has moved by more than 30%
//   since the factorization, and solutions are scaled by 2 / (1 + gamma / gamma_f) as CVODE does for
//   a stale gamma.
// - make_dense_lu_solver: a general dense direct solver, for problems without a Hessian: CVODE forms
//   I - gamma J from its difference-quotient Jacobian in a SUNDIALS dense matrix (not exactly
//   symmetric), and the solver factors it by LU with partial pivoting at each setup.
// - make_krylov_solver: SUNDIALS' PCG or GMRES, matrix-free (CVODE multiplies by -Hessian-vector
//   products), without a preconditioner, with the iteration budgets of core/tolerances.hpp (GMRES: a
//   Krylov space of min(p, 30) vectors and 2 restarts; PCG: 100 iterations) instead of SUNDIALS'
//   default of 5, which left most solves of a stiff flow unconverged (issue 26, item 4). CVODE's
//   linear tolerance factor goes with it: set_krylov_tolerance, after CVodeSetLinearSolver.
#pragma once

#include <gradflow/flow/gradient_flow_field.hpp>
#include <gradflow/flow/options.hpp>

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_nvector.h>

namespace gradflow::detail {

SUNLinearSolver make_embedded_hessian_solver(void* cvode_memory, GradientFlowField& field, long p,
                                             bool constant_hessian, SUNContext context);
// Hessian evaluations made by a solver from make_embedded_hessian_solver.
long embedded_hessian_solver_evaluations(SUNLinearSolver solver);
// Its factorizations: eigendecompositions of a constant Hessian, factorizations of I + gamma H otherwise
// (a Cholesky, and an LU where the Cholesky fails, counted once).
long embedded_hessian_solver_factorizations(SUNLinearSolver solver);

SUNLinearSolver make_dense_lu_solver(long p, SUNContext context);

// PCG or GMRES for vectors like y (p entries), configured as above; nullptr when SUNDIALS fails.
SUNLinearSolver make_krylov_solver(N_Vector y, KrylovMethod method, long p, SUNContext context);
// CVODE's linear tolerance factor for that solver (CVodeSetEpsLin); its flag.
int set_krylov_tolerance(void* cvode_memory);

}  // namespace gradflow::detail

// The Boost.Odeint back end: every odeint stepper gradflow offers, on Eigen vectors, in this one
// translation unit (odeint's templates are heavy to compile).
//
// The step loop is gradflow's own, so that every back end counts accepted and rejected steps, lands
// on the requested times, and locates events (the tolerance stop among them) the same way:
//   - dopri5: controlled FSAL steps, rows and crossings from its dense output (calc_state), which is
//     also what FlowOptions::dense_output keeps (sampled at six points of each step);
//   - cash-karp54, fehlberg78, bulirsch-stoer: controlled steps that land exactly on requested times,
//     crossings from a shorter step taken again from the start of the step; dense output: cubic Hermite;
//   - euler, rk4: fixed steps dt on the grid k dt, rows and crossings from a partial step; dense output:
//     euler's own linear interpolant, cubic Hermite for rk4.
// The adaptive solvers also gather the evidence of the stiffness hint (StiffnessEvidence below).
// The adaptive Runge-Kutta steppers use a Hairer-style controller: RMS norm of err_i / (atol + rtol |x_i|)
// and step factors 0.9 err^(-1/(q+1)) clipped to [0.2, 10] (as in Hairer-Norsett-Wanner and SciPy), so
// that their work is comparable with other codes at the same tolerances.
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/detail/auto_switch.hpp>
#include <gradflow/flow/detail/dissipation_check.hpp>
#include <gradflow/flow/detail/run_state.hpp>
#include <gradflow/flow/detail/step_processor.hpp>

// odeint's Eigen support needs the algebra dispatcher (and boost::enable_if) declared first.
#include <boost/numeric/odeint/algebra/algebra_dispatcher.hpp>
#include <boost/numeric/odeint/algebra/vector_space_algebra.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <boost/numeric/odeint/stepper/bulirsch_stoer.hpp>
#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/euler.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_cash_karp54.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_fehlberg78.hpp>
#include <boost/utility/enable_if.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>

namespace gradflow::detail {
namespace {

namespace odeint = boost::numeric::odeint;
using State = Eigen::VectorXd;
using Algebra = odeint::vector_space_algebra;

// The stage arithmetic. odeint's default_operations on Eigen vectors evaluate a stage sum
// c1 x1 + c2 x2 + ... + cN xN as an Eigen expression, at the portable build's SSE2 width (2 doubles);
// kernels::scale_sum does the same IEEE operations in the same order (every product rounded, the sum
// from the first term to the last, no fused multiply-add) at the machine's width (4 doubles with
// AVX2, picked when the program loads). So the stage sums, and every result of the explicit solvers,
// keep the bits of odeint's own arithmetic: the bound against it is 0 ulps, on every machine, for any
// thread count and run after run (against the exact sum, one stage sum of N terms is within
// gamma_N sum |c_j x_j|, gamma_N = N u / (1 - N u), as before: docs/theory.md §1.4; tests/test_stage_sums.cpp,
// §7.39). The other operations (rel_error, scale, ...) are odeint's.
template <std::size_t N>
class StageSum {
 public:
  template <class... Factor>
  explicit StageSum(Factor... factors) : c_{static_cast<double>(factors)...} {
    static_assert(sizeof...(Factor) == N, "one factor per term");
  }
  template <class Out, class... In>
  void operator()(Out& out, const In&... in) const {
    static_assert(sizeof...(In) == N, "one state per term");
    const double* x[N] = {in.data()...};
    const Eigen::Index n = std::get<0>(std::forward_as_tuple(in...)).size();
    if (out.size() != n) out.resize(n);  // as Eigen's assignment would (out is then none of the inputs)
    kernels::scale_sum(out.data(), c_.data(), x, static_cast<int>(N), n);
  }
  using result_type = void;

 private:
  std::array<double, N> c_;
};

struct StageOperations : odeint::default_operations {
  // The factors' types do not matter (they are all double here): any template arguments are accepted.
  template <class...>
  using scale_sum1 = StageSum<1>;
  template <class...>
  using scale_sum2 = StageSum<2>;
  template <class...>
  using scale_sum3 = StageSum<3>;
  template <class...>
  using scale_sum4 = StageSum<4>;
  template <class...>
  using scale_sum5 = StageSum<5>;
  template <class...>
  using scale_sum6 = StageSum<6>;
  template <class...>
  using scale_sum7 = StageSum<7>;
  template <class...>
  using scale_sum8 = StageSum<8>;
  template <class...>
  using scale_sum9 = StageSum<9>;
  template <class...>
  using scale_sum10 = StageSum<10>;
  template <class...>
  using scale_sum11 = StageSum<11>;
  template <class...>
  using scale_sum12 = StageSum<12>;
  template <class...>
  using scale_sum13 = StageSum<13>;
  template <class...>
  using scale_sum14 = StageSum<14>;
  static_assert(kernels::kMaxScaleSumTerms == 14, "a scale_sumN for every N the kernel takes");

  // Bulirsch-Stoer's modified midpoint: t1 = a1 t2 + a2 t3 and t2 = the old t1, in one pass and without
  // odeint's temporary copy of t1 (an allocation per midpoint substep).
  template <class...>
  struct scale_sum_swap2 {
    double a1, a2;
    scale_sum_swap2(double alpha1, double alpha2) : a1(alpha1), a2(alpha2) {}
    template <class T1, class T2, class T3>
    void operator()(T1& t1, T2& t2, const T3& t3) const {
      kernels::scale_sum_swap(t1.data(), t2.data(), t3.data(), a1, a2, t1.size());
    }
    using result_type = void;
  };
};

constexpr double kEps = std::numeric_limits<double>::epsilon();
using tolerances::kMaxConsecutiveRejections;

// The first evaluation a step makes at its end time t + h (a stage with c = 1: dopri5's sixth,
// cash-karp54's fifth, fehlberg78's eleventh), kept for the stiffness evidence: it and the accepted end
// point are two approximations of the same point, which differ mostly along the stiff directions.
struct EndStage {
  double t_end = 0.0;
  bool saved = false;
  State x, v;
};

// odeint's view of the flow: a system (x, dxdt, t).
struct System {
  GradientFlowField* field;
  EndStage* end_stage = nullptr;
  void operator()(const State& x, State& dxdt, double t) const {
    dxdt.resize(x.size());
    field->velocity(x, dxdt);
    if (end_stage != nullptr && !end_stage->saved && t == end_stage->t_end) {
      end_stage->x = x;
      end_stage->v = dxdt;
      end_stage->saved = true;
    }
  }
};

// RMS norm of the error estimate relative to atol + rtol |x|. A non-finite estimate (a stage hit a
// NaN or Inf gradient) is reported as the largest error, so that the step is rejected and shrunk.
class RmsErrorChecker {
 public:
  using value_type = double;
  using algebra_type = Algebra;
  using operations_type = StageOperations;

  RmsErrorChecker(double atol = 1e-6, double rtol = 1e-6) : atol_(atol), rtol_(rtol) {}

  // The sum is kernels::scaled_squared_sum: the bits of Eigen's (x_err / (atol + rtol |x_old|))^2 summed,
  // at the machine's width.
  template <class StateT, class Deriv, class Err, class Time>
  double error(const StateT& x_old, const Deriv&, Err& x_err, Time) const {
    const double n = static_cast<double>(x_old.size());
    const double sum = kernels::scaled_squared_sum(x_err.data(), x_old.data(), atol_, rtol_, x_old.size());
    const double err = std::sqrt(sum / n);
    return std::isfinite(err) ? err : std::numeric_limits<double>::max();
  }
  template <class StateT, class Deriv, class Err, class Time>
  double error(algebra_type&, const StateT& x_old, const Deriv& dxdt_old, Err& x_err, Time dt) const {
    return error(x_old, dxdt_old, x_err, dt);
  }

 private:
  double atol_;
  double rtol_;
};

// Step factor safety err^(-1/(q+1)) within [min, max] factors, q the order of the error estimate
// (core/tolerances.hpp).
class SafetyStepAdjuster {
 public:
  using time_type = double;
  using value_type = double;

  double decrease_step(double dt, double error, int error_order) const {
    return dt *
           std::max(tolerances::kStepSafety * std::pow(error, -1.0 / (error_order + 1)), tolerances::kMinStepFactor);
  }
  double increase_step(double dt, double error, int stepper_order) const {
    if (error <= 0.0) return tolerances::kMaxStepFactor * dt;
    return dt * std::min(tolerances::kMaxStepFactor, tolerances::kStepSafety * std::pow(error, -1.0 / stepper_order));
  }
  bool check_step_size_limit(double) const { return true; }
  double get_max_dt() const { return 0.0; }
};

template <class ErrorStepper>
using Controlled = odeint::controlled_runge_kutta<ErrorStepper, RmsErrorChecker, SafetyStepAdjuster>;
using Operations = StageOperations;
using Dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, Algebra, Operations>;
using CashKarp54 = odeint::runge_kutta_cash_karp54<State, double, State, double, Algebra, Operations>;
using Fehlberg78 = odeint::runge_kutta_fehlberg78<State, double, State, double, Algebra, Operations>;
using BulirschStoer = odeint::bulirsch_stoer<State, double, State, double, Algebra, Operations>;
using Euler = odeint::euler<State, double, State, double, Algebra, Operations>;
using Rk4 = odeint::runge_kutta4<State, double, State, double, Algebra, Operations>;

// One accepted step, for interpolation.
struct StepSpan {
  const State& x_old;
  const State& dxdt_old;
  double t_old;
  const State& x_new;
  const State& dxdt_new;
  double t_new;
};

// dopri5: FSAL steps and its own dense output.
struct Dopri5Driver {
  static constexpr bool kLandsOnOutputs = false;  // rows come from the dense output
  static constexpr int kErrorOrder = 4;
  // First same as last: an accepted step's last evaluation is the field at x_new, written to dxdt_new
  // (odeint's runge_kutta_dopri5 evaluates it after forming x_new and before the error test).
  static constexpr bool kFsal = true;
  Controlled<Dopri5> stepper;

  Dopri5Driver(double atol, double rtol) : stepper(RmsErrorChecker(atol, rtol)) {}
  bool try_step(System sys, const State& x, const State& dxdt, double& t, State& x_new, State& dxdt_new, double& dt) {
    return stepper.try_step(sys, x, dxdt, t, x_new, dxdt_new, dt) == odeint::success;
  }
  void state_at(System, const StepSpan& s, double t, State& out) {
    stepper.stepper().calc_state(t, out, s.x_old, s.dxdt_old, s.t_old, s.x_new, s.dxdt_new, s.t_new);
  }
};

// Controlled steppers without dense output: the state inside a step is found by integrating again
// from the step's start with a copy of the stepper (so the main one keeps its step-size history).
template <class Stepper, int ErrorOrder>
struct RestepDriver {
  static constexpr bool kLandsOnOutputs = true;
  static constexpr int kErrorOrder = ErrorOrder;
  static constexpr bool kFsal = false;
  Stepper stepper;

  explicit RestepDriver(Stepper s) : stepper(std::move(s)) {}
  bool try_step(System sys, const State& x, const State& dxdt, double& t, State& x_new, State& /*dxdt_new*/,
                double& dt) {
    return stepper.try_step(sys, x, dxdt, t, x_new, dt) == odeint::success;
  }
  void state_at(System sys, const StepSpan& s, double t_target, State& out) {
    Stepper probe = stepper;
    State x = s.x_old, dxdt = s.dxdt_old, next(x.size());
    double t = s.t_old;
    double dt = t_target - t;
    for (long attempt = 0;
         attempt < kMaxConsecutiveRejections && t_target - t > tolerances::kCrossingUlps * kEps * std::abs(t_target);
         ++attempt) {
      double t_try = t;
      double dt_try = std::min(dt, t_target - t);
      const bool landing = dt_try == t_target - t;
      if (probe.try_step(sys, x, dxdt, t_try, next, dt_try) == odeint::success) {
        t = landing ? t_target : t_try;
        x.swap(next);
        sys(x, dxdt, t);
      }
      dt = dt_try;
    }
    out = x;
  }
};

using CashKarpDriver = RestepDriver<Controlled<CashKarp54>, 4>;
using FehlbergDriver = RestepDriver<Controlled<Fehlberg78>, 7>;
using BulirschStoerDriver = RestepDriver<BulirschStoer, 4>;

double rms(const State& v, const State& scale) {
  return std::sqrt((v.array() / scale.array()).square().sum() / static_cast<double>(v.size()));
}

// The initial step of Hairer, Norsett & Wanner (Solving ODEs I, II.4), as SciPy also uses: one extra
// gradient evaluation.
double initial_step(RunState& run, const State& dxdt0, int error_order) {
  const FlowOptions& options = run.options;
  const State scale = (options.atol + options.rtol * run.theta.array().abs()).matrix();
  const double d0 = rms(run.theta, scale);
  const double d1 = rms(dxdt0, scale);
  const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  const State x1 = run.theta + h0 * dxdt0;
  State dxdt1(x1.size());
  run.field.velocity(x1, dxdt1);
  const double d2 = rms(State(dxdt1 - dxdt0), scale) / h0;
  double h1;
  if (!std::isfinite(d2)) {
    h1 = 1e-3 * h0;
  } else if (std::max(d1, d2) <= 1e-15) {
    h1 = std::max(1e-6, h0 * 1e-3);
  } else {
    h1 = std::pow(0.01 / std::max(d1, d2), 1.0 / (error_order + 1));
  }
  return std::min({100.0 * h0, h1, options.t_end});
}

// Whether an explicit adaptive method was held at its stability limit, and what a stiff method would
// have needed instead (core/tolerances.hpp explains the constants). Per accepted step of length h:
// rho = ||v(x1) - v(y)|| / ||x1 - y||, with y the step's stage at its end time (EndStage; as Hairer and
// Wanner's stiffness detection for DOPRI5 does) estimates the field's largest local Lipschitz constant;
// when h rho >= 1 the step is at the stability limit, and a BDF step of rtol^(1/6) tau would have
// sufficed, tau = h ||g0||^2 / | ||g1||^2 - ||g0||^2 | the time scale of the dissipation rate; otherwise
// the step counts as one that a stiff method needs too. Nothing is evaluated for this: the norms come
// from the step's own vectors. Bulirsch-Stoer has no such stage, so its steps all count as
// accuracy-limited (no hint). Only every 8th accepted step is sampled (its end stage copied), standing
// for the steps since the last sample, so that the evidence adds nothing measurable to a step.
class StiffnessEvidence {
 public:
  explicit StiffnessEvidence(double rtol) : bdf_step_factor_(std::pow(rtol, 1.0 / tolerances::kStiffOrderPlusOne)) {}

  // Whether the next accepted step should carry a sample (its end stage kept).
  bool wants_sample() const { return pending_ + 1 >= tolerances::kStiffnessSampleEvery; }

  // Every accepted step; a sampled one with dx = ||x1 - y||, dv = ||v(x1) - v(y)|| (dx = 0: no stage).
  // The steps are judged in windows of kStiffnessWindow samples: in a window whose every sample was at
  // the stability limit, a stiff method needs |log(||g||^2 at its end / at its start)| / rtol^(1/6)
  // steps (the e-folds of the dissipation rate over the window, at rtol^(1/6) of an e-fold per step);
  // otherwise, one per step (the explicit steps were what accuracy needed). Over a window and not per
  // step, because at the stability limit with a loose tolerance a stiff oscillation at the tolerance's
  // level makes ||g||^2 jump from step to step while its trend is slow (per step, the estimate at rtol
  // 1e-4 on a kappa 1e6 quadratic was 770 times what cvode-bdf needs, and the hint stayed silent).
  void observe(bool sampled, double h, double dx, double dv, double g2_old, double g2_new) {
    ++steps_;
    ++pending_;
    if (!sampled) return;
    const double weight = static_cast<double>(pending_);
    pending_ = 0;
    ++samples_;
    if (window_samples_ == 0) window_g2_start_ = g2_old;
    ++window_samples_;
    window_steps_ += weight;
    if (dx > 0.0 && h * dv >= tolerances::kStabilityLimitedStep * dx) {
      ++limited_;
      ++window_limited_;
    }
    if (window_samples_ >= tolerances::kStiffnessWindow) close_window(g2_new);
  }

  // The hint, or an empty string.
  std::string hint(Solver solver, long evaluations) const {
    // Steps after the last full window count as steps a stiff method needs too.
    const double stiff_evaluations = tolerances::kStiffEvaluationsPerStep *
                                     std::max(stiff_steps_ + window_steps_ + static_cast<double>(pending_), 1.0);
    const double spent = static_cast<double>(evaluations);
    // No sampled step at the stability limit: whatever the evaluations went to (the dense output's checks
    // retake steps), it was not stiffness.
    if (limited_ == 0) return {};
    if (spent < tolerances::kStiffHintMinEvaluations || spent <= tolerances::kStiffHintRatio * stiff_evaluations) {
      return {};
    }
    char buffer[512];
    std::snprintf(buffer, sizeof buffer,
                  "the problem is stiff for %s: its step was held at the stability limit on %.0f%% of %ld accepted "
                  "steps (h ||dv|| / ||dtheta|| >= 1); by the step sizes a stiff method would need about %.3g gradient "
                  "evaluations, not %ld: use cvode-bdf (dense Hessian), cvode-bdf-krylov (Hessian-vector products) or "
                  "auto (which switches)",
                  std::string(to_string(solver)).c_str(),
                  100.0 * static_cast<double>(limited_) / static_cast<double>(std::max(samples_, 1L)), steps_,
                  stiff_evaluations, evaluations);
    return buffer;
  }

 private:
  void close_window(double g2_end) {
    const bool all_limited = window_limited_ == window_samples_;
    const double efolds = window_g2_start_ > 0.0 && g2_end > 0.0 ? std::abs(std::log(g2_end / window_g2_start_))
                                                                 : std::numeric_limits<double>::infinity();
    stiff_steps_ += all_limited ? std::min(efolds / bdf_step_factor_, window_steps_) : window_steps_;
    window_samples_ = 0;
    window_limited_ = 0;
    window_steps_ = 0.0;
  }

  double bdf_step_factor_;
  long window_samples_ = 0;
  long window_limited_ = 0;
  double window_steps_ = 0.0;
  double window_g2_start_ = 0.0;
  long steps_ = 0;
  long samples_ = 0;
  long limited_ = 0;  // of the samples
  long pending_ = 0;  // accepted steps since the last sample
  double stiff_steps_ = 0.0;
};

std::string describe(const char* what, double t, double dt) {
  char buffer[200];
  std::snprintf(buffer, sizeof buffer, "%s at t = %.10g (step size %.3e)", what, t, dt);
  return buffer;
}

template <class Driver>
void run_adaptive_steps(RunState& run, Driver& driver, StiffnessEvidence& stiffness, DissipationCheck& dissipation) {
  const FlowOptions& options = run.options;
  TrajectoryMonitor& monitor = run.monitor;
  System sys{&run.field};
  const Eigen::Index p = run.theta.size();
  State dxdt = -run.grad;
  State x_new(p), dxdt_new(p), g_new(p);
  StepScratch scratch(p);
  double dt = options.first_step ? *options.first_step : initial_step(run, dxdt, Driver::kErrorOrder);
  long non_finite_before = run.field.num_non_finite();
  long consecutive_rejections = 0;
  int stalled_steps = 0;  // accepted steps in a row that left theta unchanged (tolerances::kMaxStalledSteps)
  double g2 = run.grad.squaredNorm();  // ||grad L||^2 at the current point
  EndStage end_stage;
  end_stage.x.resize(p);
  end_stage.v.resize(p);
  System stepping_sys{&run.field, &end_stage};
  // An FSAL driver reads its last stage's evaluation instead of asking the field for x_new again, so
  // the field need not copy every point it evaluates; the copies resume when the steps end.
  struct RememberPoints {
    GradientFlowField& field;
    ~RememberPoints() { field.remember_points(true); }
  } remember_again{run.field};
  if constexpr (Driver::kFsal) run.field.remember_points(false);

  while (true) {
    if (run.t >= options.t_end) {
      run.finish(Status::reached_end_time, "reached t_end");
      return;
    }
    if (run.stats.num_steps >= max_steps(options.stop, RunKind::flow)) {
      run.finish(Status::max_steps, "max_steps = " + std::to_string(max_steps(options.stop, RunKind::flow)) +
                                        " accepted steps reached before t_end");
      return;
    }
    dt = std::min(dt, options.max_step);
    double target = options.t_end;
    if (Driver::kLandsOnOutputs && !monitor.every_step()) target = std::min(target, monitor.next_output_time());
    const bool clamped = dt >= target - run.t;
    const double dt_wanted = dt;
    double dt_try = clamped ? target - run.t : dt;
    double t_try = run.t;
    // Keep the stage at the step's end time only on a sampled step (a NaN time matches no stage), and on
    // every step that solver auto watches.
    end_stage.t_end = stiffness.wants_sample() || run.auto_switch != nullptr ? t_try + dt_try
                                                                             : std::numeric_limits<double>::quiet_NaN();
    end_stage.saved = false;
    const long non_finite_at_try = run.field.num_non_finite();
    const bool accepted = driver.try_step(stepping_sys, run.theta, dxdt, t_try, x_new, dxdt_new, dt_try);
    double loss_new = std::numeric_limits<double>::quiet_NaN();
    double g2_new = std::numeric_limits<double>::quiet_NaN();
    // A stage that saw a non-finite gradient (or gradient norm) spoils the step even when its end point
    // looks finite (a stage's 1e300 gradient throws the state far away, to a finite point).
    const bool stage_non_finite = run.field.num_non_finite() > non_finite_at_try;
    if (accepted && !stage_non_finite) {
      if constexpr (Driver::kFsal) {
        loss_new = run.field.last_loss();
        g_new = -dxdt_new;  // dxdt_new = -grad L(x_new) exactly, so these are the gradient's own bits
      } else {
        loss_new = run.field.loss_and_gradient(x_new, g_new);
      }
      g2_new = run.field.last_gradient_squared_norm();  // not finite for a non-finite entry or norm
    }
    if (!accepted || stage_non_finite || !std::isfinite(loss_new) || !std::isfinite(g2_new) ||
        !all_entries_finite(x_new)) {
      // Rejected by the error test, or accepted onto (or through) a non-finite value (which odeint's own
      // norms cannot see): shrink and retry from the last good point. After a non-finite evaluation the
      // step shrinks by at least 5x whatever the stepper suggests (Bulirsch-Stoer's order control
      // does not always shrink it).
      ++run.stats.num_rejected_steps;
      ++consecutive_rejections;
      const double attempted = clamped ? target - run.t : dt_wanted;
      dt = accepted ? 0.2 * (t_try - run.t) : dt_try;
      if (run.field.num_non_finite() > non_finite_before) dt = std::min(dt, 0.2 * attempted);
      if (!(dt > 0.0) || run.t + dt == run.t || consecutive_rejections > kMaxConsecutiveRejections) {
        const bool non_finite = run.field.num_non_finite() > non_finite_before;
        run.finish(non_finite ? Status::non_finite_value : Status::step_size_too_small,
                   describe(non_finite ? "the gradient was not finite on every trial step; the step size underflowed"
                                       : "the step size underflowed",
                            run.t, dt));
        return;
      }
      continue;
    }
    non_finite_before = run.field.num_non_finite();
    consecutive_rejections = 0;
    const double t_new = clamped ? target : t_try;
    if (g2 > 0.0 && t_new - run.t < tolerances::kStallUlps * kEps * options.t_end &&
        std::memcmp(x_new.data(), run.theta.data(), sizeof(double) * static_cast<std::size_t>(p)) == 0) {
      if (++stalled_steps >= tolerances::kMaxStalledSteps) {
        run.finish(Status::step_size_too_small,
                   describe("the accepted steps no longer change theta: the step is below the resolution of the state "
                            "and of the time span (is the gradient's scale extreme?)",
                            run.t, t_new - run.t));
        return;
      }
    } else {
      stalled_steps = 0;
    }
    ++run.stats.num_steps;
    dt = clamped ? std::max(dt_try, dt_wanted) : dt_try;
    if constexpr (!Driver::kFsal) dxdt_new = -g_new;  // an FSAL step's dxdt_new is already -g_new
    double stage_dx = 0.0, stage_dv = 0.0;            // ||x1 - y||, ||v(x1) - v(y)|| for the step's end stage y
    if (end_stage.saved) {
      stage_dx = (x_new - end_stage.x).norm();
      stage_dv = (dxdt_new - end_stage.v).norm();
    }
    const double h = t_new - run.t;
    run.last_step = h;
    if (end_stage.saved && stiffness.wants_sample()) {
      stiffness.observe(true, h, stage_dx, stage_dv, g2, g2_new);
    } else {
      stiffness.observe(stiffness.wants_sample(), t_new - run.t, 0.0, 0.0, g2, g2_new);
    }
    dissipation.step(run.t, t_new, loss_new, g2, g2_new);
    g2 = g2_new;
    const StepSpan span{run.theta, dxdt, run.t, x_new, dxdt_new, t_new};
    // The span refers to run.theta and x_new, which finish_step reads (through state_at) before it
    // makes the end point current.
    const auto state_at = [&](double t, State& out) { driver.state_at(sys, span, t, out); };
    if (finish_step(run, t_new, x_new, loss_new, g_new, state_at, scratch)) return;
    // The end point is now current (run.grad is g_new): dxdt_new = -run.grad to the bit.
    dxdt.swap(dxdt_new);
    // (A step that reached t_end hands nothing over: the run is done.)
    if (run.auto_switch != nullptr && end_stage.saved && run.t < options.t_end &&
        run.auto_switch->stiff_after(run, h, stage_dx, stage_dv)) {
      run.switch_requested = true;  // solver auto hands over to BDF from this point
      return;
    }
  }
}

template <class Driver>
void run_adaptive(RunState& run, Driver& driver) {
  StiffnessEvidence stiffness(run.options.rtol);
  DissipationCheck dissipation(run.t, run.loss, run.options.rtol * std::abs(run.loss));
  run_adaptive_steps(run, driver, stiffness, dissipation);
  // Under solver auto the switch acts on stiffness: no hint.
  if (run.auto_switch == nullptr) run.stiffness_hint = stiffness.hint(run.options.solver, run.field.num_evaluations());
  // A field that is not the gradient of the loss (the central flow) has no dissipation identity to check.
  if (run.field.objective().field_is_gradient()) run.departure = dissipation.finding();
}

template <class Stepper>
void run_fixed_steps(RunState& run, Stepper& stepper, DissipationCheck& dissipation) {
  const FlowOptions& options = run.options;
  System sys{&run.field};
  const Eigen::Index p = run.theta.size();
  State dxdt = -run.grad;
  State x_new(p), g_new(p);
  StepScratch scratch(p);
  // The grid t_k = k dt, computed from k (no accumulated rounding); a last partial step reaches
  // t_end when it is not a multiple of dt.
  const double ratio = options.t_end / options.dt;
  const double nearest = std::round(ratio);
  const bool exact_multiple =
      nearest >= 1.0 && std::abs(ratio - nearest) <= tolerances::kGridMultipleRelative * nearest;
  const double num_grid_steps = exact_multiple ? nearest : std::ceil(ratio);
  double k = 0.0;
  double g2 = run.grad.squaredNorm();
  while (true) {
    if (k >= num_grid_steps) {
      run.finish(Status::reached_end_time, "reached t_end");
      return;
    }
    if (run.stats.num_steps >= max_steps(options.stop, RunKind::flow)) {
      run.finish(Status::max_steps, "max_steps = " + std::to_string(max_steps(options.stop, RunKind::flow)) +
                                        " steps reached before t_end");
      return;
    }
    const double t_old = run.t;
    const double t_new = (k + 1.0 >= num_grid_steps) ? options.t_end : (k + 1.0) * options.dt;
    const long non_finite_at_step = run.field.num_non_finite();
    stepper.do_step(sys, run.theta, dxdt, t_old, x_new, t_new - t_old);
    const double loss_new = run.field.loss_and_gradient(x_new, g_new);
    if (run.field.num_non_finite() > non_finite_at_step || !finite_loss_and_gradient(loss_new, g_new) ||
        !all_entries_finite(x_new)) {
      run.finish(Status::non_finite_value,
                 describe("the step produced a non-finite state, loss, gradient or gradient norm (dt too large?)",
                          t_old, t_new - t_old));
      return;
    }
    ++run.stats.num_steps;
    k += 1.0;
    const double g2_new = g_new.squaredNorm();
    dissipation.step(t_old, t_new, loss_new, g2, g2_new);
    g2 = g2_new;
    // A partial step from the grid point (run.theta is still the step's start inside finish_step).
    const auto state_at = [&](double t, State& out) { stepper.do_step(sys, run.theta, dxdt, t_old, out, t - t_old); };
    if (finish_step(run, t_new, x_new, loss_new, g_new, state_at, scratch)) return;
    dxdt = -run.grad;
  }
}

template <class Stepper>
void run_fixed(RunState& run, Stepper& stepper) {
  DissipationCheck dissipation(run.t, run.loss, 0.0);
  run_fixed_steps(run, stepper, dissipation);
  if (run.field.objective().field_is_gradient()) run.departure = dissipation.finding();
}

}  // namespace

void run_odeint(RunState& run) {
  const FlowOptions& o = run.options;
  switch (o.solver) {
    case Solver::dopri5: {
      run.interpolant = Interpolant::quintic;
      Dopri5Driver driver(o.atol, o.rtol);
      run_adaptive(run, driver);
      return;
    }
    case Solver::cash_karp54: {
      CashKarpDriver driver{Controlled<CashKarp54>(RmsErrorChecker(o.atol, o.rtol))};
      run_adaptive(run, driver);
      return;
    }
    case Solver::fehlberg78: {
      FehlbergDriver driver{Controlled<Fehlberg78>(RmsErrorChecker(o.atol, o.rtol))};
      run_adaptive(run, driver);
      return;
    }
    case Solver::bulirsch_stoer: {
      BulirschStoerDriver driver{BulirschStoer(o.atol, o.rtol, 1.0, 0.0)};
      run_adaptive(run, driver);
      return;
    }
    case Solver::euler: {
      run.interpolant = Interpolant::linear;
      Euler stepper;
      run_fixed(run, stepper);
      return;
    }
    case Solver::rk4: {
      run.interpolant = Interpolant::hermite;
      Rk4 stepper;
      run_fixed(run, stepper);
      return;
    }
    default:
      run.finish(Status::backend_error,
                 "run_odeint(): solver " + std::string(to_string(o.solver)) + " is not an odeint solver");
  }
}

}  // namespace gradflow::detail

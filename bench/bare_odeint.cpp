// The bare odeint peer (bare_peers.hpp): Boost.Odeint's integrate_adaptive with a controlled
// runge_kutta_dopri5 on Eigen vectors, and nothing else.
#include "bare_peers.hpp"

// odeint's Eigen support needs the algebra dispatcher (and boost::enable_if) declared first.
#include <boost/numeric/odeint/algebra/algebra_dispatcher.hpp>
#include <boost/numeric/odeint/algebra/vector_space_algebra.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <boost/numeric/odeint/integrate/integrate_adaptive.hpp>
#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>
#include <boost/utility/enable_if.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

namespace gradflow::bench {
namespace {

namespace odeint = boost::numeric::odeint;
using State = Eigen::VectorXd;
using Algebra = odeint::vector_space_algebra;

// The same step control as gradflow's odeint back end (flow/odeint_backend.cpp keeps its classes
// private, so they are restated here): RMS norm relative to atol + rtol |x_old| ...
class RmsErrorChecker {
 public:
  using value_type = double;
  using algebra_type = Algebra;
  using operations_type = odeint::default_operations;

  RmsErrorChecker(double atol = 1e-6, double rtol = 1e-6) : atol_(atol), rtol_(rtol) {}

  template <class StateT, class Deriv, class Err, class Time>
  double error(algebra_type&, const StateT& x_old, const Deriv&, Err& x_err, Time) const {
    const double n = static_cast<double>(x_old.size());
    const double sum = (x_err.array() / (atol_ + rtol_ * x_old.array().abs())).square().sum();
    const double err = std::sqrt(sum / n);
    return std::isfinite(err) ? err : std::numeric_limits<double>::max();
  }

 private:
  double atol_;
  double rtol_;
};

// ... and step factors 0.9 err^(-1/(q+1)) within [0.2, 10].
class SafetyStepAdjuster {
 public:
  using time_type = double;
  using value_type = double;

  double decrease_step(double dt, double error, int error_order) const {
    return dt * std::max(0.9 * std::pow(error, -1.0 / (error_order + 1)), 0.2);
  }
  double increase_step(double dt, double error, int stepper_order) const {
    if (error <= 0.0) return 10.0 * dt;
    return dt * std::min(10.0, 0.9 * std::pow(error, -1.0 / stepper_order));
  }
  bool check_step_size_limit(double) const { return true; }
  double get_max_dt() const { return 0.0; }
};

using Dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, Algebra>;
using Controlled = odeint::controlled_runge_kutta<Dopri5, RmsErrorChecker, SafetyStepAdjuster>;

double rms(const State& v, const State& scale) {
  return std::sqrt((v.array() / scale.array()).square().sum() / static_cast<double>(v.size()));
}

}  // namespace

BareResult bare_odeint_dopri5(const Objective& f, const Vector& theta0, double t_end, double rtol, double atol) {
  BareResult result;
  long evals = 0;
  const auto field = [&](const State& x, State& dxdt, double /*t*/) {
    f.loss_and_gradient(x, dxdt);
    dxdt = -dxdt;
    ++evals;
  };
  // The first step of Hairer, Norsett & Wanner (Solving ODEs I, II.4), as gradflow and SciPy take it.
  State x = theta0;
  State f0(x.size()), f1(x.size());
  field(x, f0, 0.0);
  const State scale = (atol + rtol * x.array().abs()).matrix();
  const double d0 = rms(x, scale), d1 = rms(f0, scale);
  const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  field(State(x + h0 * f0), f1, h0);
  const double d2 = rms(State(f1 - f0), scale) / h0;
  const double h1 = std::max(d1, d2) <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / std::max(d1, d2), 0.2);
  double dt = std::min({100.0 * h0, h1, t_end});
  try {
    result.steps = static_cast<long>(
        odeint::integrate_adaptive(Controlled(RmsErrorChecker(atol, rtol)), field, x, 0.0, t_end, dt));
  } catch (const std::exception& e) {
    result.message = e.what();
    return result;
  }
  result.ok = x.allFinite();
  if (!result.ok) result.message = "non-finite state";
  result.theta = x;
  result.grad_evals = evals;
  return result;
}

}  // namespace gradflow::bench

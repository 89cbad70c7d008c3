/// @file
/// The interpolant of a gradient-flow trajectory (FlowOptions::dense_output): one polynomial piece per
/// accepted step, from what the method's own interpolant needs:
///   - dopri5: its continuous extension (degree 5 in the step fraction), stored as its values at six
///     equally spaced points of the step and evaluated by Lagrange interpolation;
///   - euler: its own linear interpolant theta0 + (t - t0) v0, the partial Euler step (so at(t) is what a
///     run stopped at t gives, bit for bit);
///   - every other method (cash-karp54, fehlberg78, bulirsch-stoer, rk4, the CVODE methods): the cubic
///     Hermite interpolant of theta and v = -grad L at both ends of the step. For the adaptive ones it is
///     checked at the step's midpoint against the method's own interpolant (a shorter step taken again
///     from the step's start; CVODE's CVodeGetDky), and the step is halved, with v evaluated at the
///     midpoint, until they agree within atol + rtol |theta| (RMS, at most 2^10 pieces per step): a
///     long step of a high-order method is then still interpolated to the solver's tolerance. For rk4
///     the Hermite error is of the method's own order, dt^4.
/// at(t) evaluates it anywhere in [t_begin(), t_end()].
#pragma once

#include <gradflow/core/objective.hpp>

#include <cstddef>
#include <vector>

namespace gradflow {

/// The piecewise-polynomial interpolant of one run's trajectory (see the file comment): filled by the back
/// ends step by step, evaluated by at(t).
class DenseOutput {
 public:
  /// True when nothing was recorded (no start(), no piece).
  bool empty() const { return pieces_.empty() && !has_start_; }
  /// The number of polynomial pieces (the accepted steps and their halvings).
  std::size_t num_pieces() const { return pieces_.size(); }
  /// The start of the interval covered: the t0 given to start().
  double t_begin() const { return t_begin_; }
  /// The end of the interval covered: the last piece's t1, or t_begin() without pieces.
  double t_end() const { return pieces_.empty() ? t_begin_ : pieces_.back().t1; }

  /// The state at t; throws std::out_of_range naming t and the interval when t is outside it, and
  /// std::logic_error when nothing was recorded.
  Vector at(double t) const;

  /// Recording (the back ends). start() gives the initial point; each add_* appends the piece for the
  /// step [t0, t1] that follows the last one.
  void start(double t0, const ConstVectorView& theta0);
  /// A cubic Hermite piece on [t0, t1] from the states x0, x1 and the velocities v0, v1 at its ends.
  void add_hermite(double t0, double t1, const ConstVectorView& x0, const ConstVectorView& v0,
                   const ConstVectorView& x1, const ConstVectorView& v1);
  /// A linear piece on [t0, t1]: x0 + (t - t0) v0 (euler's partial step).
  void add_linear(double t0, double t1, const ConstVectorView& x0, const ConstVectorView& v0);
  /// samples: the values at t0 + k span / 5, k = 0..5 (span = the whole step, which may extend past t1
  /// when the step was cut short by an event); the piece is valid on [t0, t1].
  void add_quintic(double t0, double t1, double span, const Vector* samples[6]);

  /// The cubic Hermite interpolant of (x0, v0) at t0 and (x1, v1) at t1, at t.
  static Vector hermite(double t0, const ConstVectorView& x0, const ConstVectorView& v0, double t1,
                        const ConstVectorView& x1, const ConstVectorView& v1, double t);

 private:
  enum class Kind { hermite, linear, quintic };
  struct Piece {
    double t0, t1, span;
    Kind kind;
    std::size_t offset;  ///< into data_, in units of doubles
  };
  void append(const ConstVectorView& x);

  Eigen::Index p_ = 0;
  bool has_start_ = false;
  double t_begin_ = 0.0;
  Vector start_;
  std::vector<Piece> pieces_;
  std::vector<double> data_;
};

}  // namespace gradflow

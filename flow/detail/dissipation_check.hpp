// Whether a computed trajectory still follows the gradient flow: the dissipation identity
// (docs/theory.md §1.5). Along the exact flow theta' = -grad L,
//
//   L(theta(a)) - L(theta(b)) = integral_a^b ||grad L(theta(t))||^2 dt     for every a <= b,
//
// so the loss a run loses over a stretch of time must equal the dissipation its own gradients claim.
// Per accepted step of length h the dissipation is estimated from below by h min(||g0||^2, ||g1||^2)
// (exact when ||grad L||^2 is monotone inside the step), so a faithful run has D <= drop up to its
// tolerance. A run whose tail claims D > kDissipationExcess x (loss drop) is not on the flow there: an
// explicit solver held at its stability limit with a loose rtol keeps a stiff oscillation alive whose
// gradient is large while the loss stands still (it stalls far above where the flow is). An excess below
// the run's resolution (the constructor) is not reported. Nothing is
// evaluated for this: the losses and gradient norms are the steps' own.
//
// The check keeps at most kCheckpoints checkpoints (t, L, D), thinned by halves as the run grows, and
// at the end compares the final point with every checkpoint: the earliest checkpoint from which the
// identity fails is where the run left the flow (to within the thinning).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace gradflow::detail {

class DissipationCheck {
 public:
  // A tail that claims more than this times its loss drop has left the flow.
  static constexpr double kDissipationExcess = 2.0;
  // Below this many units of round-off in the losses, a difference of losses says nothing.
  static constexpr double kRoundOffUnits = 1e3;
  static constexpr std::size_t kCheckpoints = 512;

  // resolution: an excess of claimed dissipation over the loss drop below this is within what the run's
  // tolerance resolves (rtol |L0| for an adaptive solver: at a loss far below that, the stiff components
  // kept at the tolerance's level dominate ||grad L||^2 without the run being off the flow by more than
  // was asked), 0 for a fixed step.
  DissipationCheck(double t0, double loss0, double resolution) : resolution_(resolution) {
    points_.push_back({t0, loss0, 0.0});
  }

  // An accepted step from (t_old, ||g0||^2) to (t_new, loss_new, ||g1||^2).
  void step(double t_old, double t_new, double loss_new, double g2_old, double g2_new) {
    const double h = t_new - t_old;
    if (h > 0.0 && std::isfinite(g2_old) && std::isfinite(g2_new)) dissipation_ += h * std::min(g2_old, g2_new);
    last_ = {t_new, loss_new, dissipation_};
    if (++since_checkpoint_ < stride_) return;
    since_checkpoint_ = 0;
    points_.push_back(last_);
    if (points_.size() >= kCheckpoints) {  // keep every other one (the first always), double the stride
      std::size_t kept = 0;
      for (std::size_t i = 0; i < points_.size(); i += 2) points_[kept++] = points_[i];
      points_.resize(kept);
      stride_ *= 2;
    }
  }

  // The finding, or "" when the run follows the flow as far as the identity can tell.
  std::string finding() const {
    if (!std::isfinite(last_.loss) || !std::isfinite(last_.dissipation)) return {};
    for (const Point& from : points_) {
      if (!(from.t < last_.t)) break;
      const double claimed = last_.dissipation - from.dissipation;
      const double drop = from.loss - last_.loss;
      const double round_off =
          kRoundOffUnits * std::numeric_limits<double>::epsilon() * std::max(std::abs(from.loss), std::abs(last_.loss));
      if (claimed > round_off && claimed > kDissipationExcess * std::max(drop, round_off) &&
          claimed - drop > resolution_) {
        char buffer[520];
        std::snprintf(buffer, sizeof buffer,
                      "the run does not follow the gradient flow after t = %.6g: its steps claim a dissipation "
                      "(integral of ||grad L||^2 dt) of %.3e there, but the loss fell by %.3e (%.6e -> %.6e; the "
                      "exact flow has the two equal), so the end point is not where the flow is: an explicit "
                      "solver at its stability limit or a loose rtol; tighten rtol or use cvode-bdf",
                      from.t, claimed, drop, from.loss, last_.loss);
        return buffer;
      }
    }
    return {};
  }

 private:
  struct Point {
    double t;
    double loss;
    double dissipation;  // the lower estimate of integral_0^t ||grad L||^2 up to t
  };
  double resolution_;
  std::vector<Point> points_;
  Point last_{0.0, std::numeric_limits<double>::quiet_NaN(), 0.0};
  double dissipation_ = 0.0;
  long stride_ = 1;
  long since_checkpoint_ = 0;
};

}  // namespace gradflow::detail

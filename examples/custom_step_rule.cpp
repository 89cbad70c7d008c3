// A step-size rule of one's own, added without touching the library: a step-decay schedule
//   eta_k = eta0 * factor^floor(k / every),
// written against the StepRule concept of discrete/step_rule.hpp (propose() and guarantee(), and a
// name() for the reports) and run by the template descend<Rule>() on a least-squares problem.
//
// Exits 0 when the iterates are theta_k - eta_k grad L(theta_k) with the schedule's steps, the loss
// falls, and with factor 1 the rule gives the built-in fixed step bit for bit.
#include <gradflow/gradflow.hpp>

#include <cmath>
#include <cstdio>
#include <string>

namespace {

struct StepDecay {
  double eta0;
  double factor;
  long every;

  std::string name() const { return "step-decay"; }

  gradflow::StepProposal propose(const gradflow::StepInput& in, gradflow::Vector& /*trial*/) const {
    gradflow::StepProposal proposal;
    proposal.eta = eta0 * std::pow(factor, static_cast<double>(in.iter / every));
    return proposal;
  }

  // A schedule proves no rate: no q and no radius, and the note says so.
  gradflow::RateGuarantee guarantee(const gradflow::StepFacts&) const {
    gradflow::RateGuarantee none;
    none.note = "a step-decay schedule: no guarantee";
    return none;
  }
};

static_assert(gradflow::StepSizeRule<StepDecay>);

}  // namespace

int main() {
  using namespace gradflow;
  Random random(3);
  const LeastSquares problem(random.normal_matrix(20, 8), random.normal_vector(20));
  const Vector theta0 = Vector::Zero(8);
  const double beta = *problem.known().beta;

  DescentOptions options;
  options.stop.max_steps = 300;
  options.save.every_steps = 50;
  const StepDecay rule{1.5 / beta, 0.5, 100};
  const DescentResult result = descend(problem, theta0, rule, options);
  std::printf("%s", result.full_report().c_str());
  for (const Row& row : result.rows) {
    std::printf("  k = %4ld  eta = %.4g  L - L_min = %.6e\n", row.iter, row.step_size,
                row.loss - *problem.known().min_value);
  }

  // The iterates, recomputed here from the schedule.
  Vector theta = theta0, grad(8);
  for (long k = 0; k < *options.stop.max_steps; ++k) {
    problem.loss_and_gradient(theta, grad);
    theta -= (1.5 / beta) * std::pow(0.5, static_cast<double>(k / 100)) * grad;
  }
  DescentOptions fixed = options;
  fixed.step = StepRule::fixed;
  fixed.lr = 1.5 / beta;
  const bool same_as_fixed =
      descend(problem, theta0, StepDecay{1.5 / beta, 1.0, 100}, options).theta == descend(problem, theta0, fixed).theta;
  const bool ok = result.status == Status::reached_max_iters && result.rule == "step-decay" && result.theta == theta &&
                  result.loss_final < result.loss0 && same_as_fixed;
  std::printf("iterates as computed by hand: %s; factor 1 equals the built-in fixed step: %s\n",
              result.theta == theta ? "yes" : "no", same_as_fixed ? "yes" : "no");
  return ok ? 0 : 1;
}

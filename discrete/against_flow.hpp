/// @file
/// Descent against the flow (docs/theory.md §8.2): the iterates theta_k compared, row by row, with the
/// gradient flow theta(t) from the same start at t_k = eta_0 + ... + eta_{k-1}, the time axis the two
/// share. The flow is integrated accurately (dopri5 at rtol 1e-10, atol 1e-12 by default) segment by
/// segment as the rows arrive, so that a run streamed through DescentOptions::save.sink keeps only the
/// flow's current state: call compare() from the row sink.
///
/// Descent "leaves the flow" at the first row where ||theta_k - theta(t_k)|| > leave_tol
/// max(||theta(t_k)||, ||theta0||): the distance relative to the size of the parameters. On the
/// quadratic model each eigen-direction of eigenvalue lambda is multiplied by 1 - eta lambda per step
/// against exp(-eta lambda) for the flow: the two agree to O((eta lambda)^2) per step while
/// eta lambda << 1, and part for good once eta x sharpness > 2. That distance includes the O(eta) error
/// of Euler's method, which is not instability: the follower also integrates the modified flow
/// (discrete/modified_flow.hpp, docs/theory.md §2.9), theta' = -(grad L + (eta / 2) H grad L), which
/// descent follows to O(eta^2), and reports where descent leaves that one (left_modified()): with
/// eta x sharpness >= 2 there, an instability (the edge of stability); below, a step too large for the
/// expansion in eta x sharpness. eta on a segment between two rows is its length over the iterations
/// in it: the step itself for a fixed step or when every iteration is a row, the segment's mean step
/// otherwise.
#pragma once

#include <gradflow/core/counting_objective.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/discrete/flow_models.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// The tolerance of a model of the edge of stability in a comparison: the central flow's field carries the
/// Lanczos sharpness's error (the edge flow is integrated at the same tolerance).
inline constexpr double kCentralFlowRtol = 1e-7;

/// A row is at the edge of stability when its eta x sharpness is at least this: within 1% of 2, or past it
/// (descent at the edge oscillates about 2; FlowFollower::rows_at_edge, time_at_edge).
inline constexpr double kAtEdge = 1.98;

/// A model of the edge of stability (the central or the edge flow; discrete/flow_models.hpp) at a row of
/// descent; NaN without one.
struct ModelComparison {
  double loss = std::numeric_limits<double>::quiet_NaN();          ///< L at the model's centre
  double average_loss = std::numeric_limits<double>::quiet_NaN();  ///< the time-averaged loss it predicts
  double sharpness = std::numeric_limits<double>::quiet_NaN();     ///< its sharpness (2 / eta at the edge)
  double sigma2 = std::numeric_limits<double>::quiet_NaN();        ///< the oscillation's squared size
  /// The distance of the iterate to the model's: the centre (central), the nearer of c +- a u (edge).
  double distance = std::numeric_limits<double>::quiet_NaN();
  /// The distance of the average of this row's and the previous row's iterates (the centre of a period-2
  /// oscillation when every iteration is a row) to the model's centre.
  double average_distance = std::numeric_limits<double>::quiet_NaN();
};

/// One row of descent compared with the flows from the same start at the row's t (FlowFollower::compare());
/// NaN where a value is not available.
struct FlowComparison {
  double flow_loss = std::numeric_limits<double>::quiet_NaN();                   ///< L(theta(t_k))
  double distance = std::numeric_limits<double>::quiet_NaN();                    ///< ||theta_k - theta(t_k)||
  double relative_distance = std::numeric_limits<double>::quiet_NaN();           ///< / max(||theta(t_k)||, ||theta0||)
  double eta_sharpness = std::numeric_limits<double>::quiet_NaN();               ///< eta x sharpness (row.observed)
  double modified_flow_loss = std::numeric_limits<double>::quiet_NaN();          ///< L at the modified flow's point
  double modified_distance = std::numeric_limits<double>::quiet_NaN();           ///< ||theta_k - theta~(t_k)||
  double modified_relative_distance = std::numeric_limits<double>::quiet_NaN();  ///< / max(||theta~||, ||theta0||)
  /// With a model of the edge of stability (add_edge_of_stability_flow()): its values at the row.
  ModelComparison model;
};

/// The names of a comparison's values as columns, in the order of comparison_values(): flow_loss,
/// distance_to_flow, relative_distance, eta_sharpness, modified_flow_loss, distance_to_modified_flow,
/// relative_distance_modified, and with a model M (central, edge): M_flow_loss, M_average_loss,
/// M_sharpness, distance_to_M_flow, distance_of_average_to_M_flow, M_sigma2 (descend --against-flow's
/// columns, and the Python module's).
std::vector<std::string> comparison_columns(const std::optional<FlowModel>& model);
/// A comparison's values in the order of comparison_columns() (the model's when with_model).
std::vector<double> comparison_values(const FlowComparison& c, bool with_model);

/// How closely the flows predicted descent over the rows compared so far (FlowFollower::fidelity()): the
/// largest relative deviation |predicted - descent's| / |descent's| of the plain and the modified flow's
/// loss from descent's (they model the iterates; rows after the first), and of the model of the edge of
/// stability's predicted time-averaged loss and its sharpness from descent's centred over three rows, 1/4,
/// 1/2, 1/4 (which removes a period-2 oscillation exactly when every iteration is a row), compared one row
/// late.
struct Fidelity {
  long rows = 0;                 ///< the rows compared with the plain and modified flows
  double plain = 0.0;            ///< the plain flow's largest relative deviation of the loss
  double modified = 0.0;         ///< the modified flow's
  long model_rows = 0;           ///< the rows compared with the model (centred: two fewer)
  double model = 0.0;            ///< the model's predicted time-averaged loss
  double model_sharpness = 0.0;  ///< the model's sharpness
};

/// Where descent left the flow.
struct LeaveFlow {
  long iter = 0;                   ///< the row's iteration k
  double t = 0.0;                  ///< the row's time t_k
  double relative_distance = 0.0;  ///< the relative distance there (to the modified flow for left_modified() and
                                   ///< reached_edge(), to the plain flow for left())
  double sharpness = std::numeric_limits<double>::quiet_NaN();      ///< at that row (NaN when not observed)
  double eta_sharpness = std::numeric_limits<double>::quiet_NaN();  ///< eta x sharpness at that row
};

/// Integrates the plain and the modified flow (and, on request, the central or the edge flow) alongside a descent run,
/// segment by segment, and compares each row's iterate with them (see the file comment).
class FlowFollower {
 public:
  /// flow: the accurate solver's options (its t_end, rows and sinks are set here); leave_tol > 0.
  FlowFollower(const Objective& objective, const Vector& theta0, double leave_tol, FlowOptions flow = accurate());
  static FlowOptions accurate();  ///< dopri5, rtol 1e-10, atol 1e-12

  /// The flow advanced to row.t (rows in increasing t) and compared with the iterate theta there; eta is
  /// the step size for eta x sharpness (the row's own step, or the rule's fixed one at k = 0).
  FlowComparison compare(const Row& row, const ConstVectorView& theta, double eta);

  /// Where the distance to the plain flow first exceeded leave_tol (it includes Euler's O(eta) error).
  const std::optional<LeaveFlow>& left() const { return left_; }
  /// Where the distance to the modified flow first exceeded leave_tol: a departure that the O(eta)
  /// error does not explain.
  const std::optional<LeaveFlow>& left_modified() const { return left_modified_; }
  /// The first row with eta x sharpness >= 2 (past the edge of stability), and the largest eta x
  /// sharpness seen (NaN when no row had a sharpness).
  const std::optional<LeaveFlow>& reached_edge() const { return edge_; }
  /// The largest eta x sharpness of the rows compared so far (NaN when no row had a sharpness).
  double max_eta_sharpness() const { return max_eta_sharpness_; }
  /// The rows at the edge of stability (eta x sharpness >= kAtEdge) among those compared so far.
  long rows_at_edge() const { return rows_at_edge_; }
  /// The time descent spent at the edge: the sum of the intervals from the previous row to each row at the
  /// edge (on descent's clock t = sum of the steps).
  double time_at_edge() const { return time_at_edge_; }
  /// How closely the flows predicted descent's loss and sharpness so far (see Fidelity).
  const Fidelity& fidelity() const { return fidelity_; }
  /// The relative distance beyond which descent has left a flow, as given to the constructor.
  double leave_tol() const { return leave_tol_; }
  /// The options of the accurate solver that integrates the flows, segment by segment.
  const FlowOptions& flow_options() const { return flow_; }
  const Stats& flow_stats() const { return stats_; }  ///< the flow's evaluations, all segments
  /// The modified flow's: gradients of L~, each one gradient and one Hessian-vector product of L.
  const Stats& modified_flow_stats() const { return modified_stats_; }
  /// Also integrate a model of the edge of stability, the central or the edge flow of the segment's step
  /// (discrete/flow_models.hpp), from theta0; before the first compare(). std::invalid_argument for
  /// another model or an objective without exact Hessian-vector products.
  void add_edge_of_stability_flow(FlowModel model);
  /// The model add_edge_of_stability_flow() added, if any.
  const std::optional<FlowModel>& edge_of_stability_model() const { return model_; }
  /// Its work: the gradients and Hessian-vector products of L made inside its field and predictions.
  const Stats& edge_of_stability_stats() const { return model_stats_; }
  /// Why the flow stopped short (a solver failure), or "": the later rows are then NaN.
  const std::string& failure() const { return failure_; }

 private:
  void update_fidelity(const Row& row, const FlowComparison& c);
  const Objective& objective_;
  Vector theta0_;
  double theta0_norm_;
  double leave_tol_;
  FlowOptions flow_;
  Vector theta_;  ///< theta(t_)
  double t_ = 0.0;
  double loss_;
  Vector modified_theta_;  ///< theta~(t_), the modified flow's point
  double modified_loss_;   ///< L(theta~(t_))
  long iter_ = 0;          ///< the iteration of the last row compared
  std::optional<LeaveFlow> left_;
  std::optional<LeaveFlow> left_modified_;
  std::optional<LeaveFlow> edge_;
  double max_eta_sharpness_ = std::numeric_limits<double>::quiet_NaN();
  long rows_at_edge_ = 0;
  double time_at_edge_ = 0.0;
  double last_row_t_ = std::numeric_limits<double>::quiet_NaN();
  Stats stats_;
  Stats modified_stats_;
  std::optional<FlowModel> model_;
  std::unique_ptr<CountingObjective> model_counted_;  ///< the objective, counted for model_stats_
  Vector model_state_;                                ///< the model flow's state at t_
  ModelState model_point_;                            ///< what it predicts there
  Vector previous_iterate_;
  Stats model_stats_;
  Fidelity fidelity_;
  // The last two rows' losses and sharpness, and the model's prediction at the last row (for fidelity_).
  double loss1_ = std::numeric_limits<double>::quiet_NaN(), loss2_ = loss1_;
  double sharpness1_ = loss1_, sharpness2_ = loss1_;
  double predicted_loss_ = loss1_, predicted_sharpness_ = loss1_;
  std::string failure_;
};

}  // namespace gradflow

#include <gradflow/discrete/against_flow.hpp>

#include <gradflow/discrete/flow_models.hpp>
#include <gradflow/discrete/modified_flow.hpp>
#include <gradflow/flow/simulate_flow.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gradflow {

std::vector<std::string> comparison_columns(const std::optional<FlowModel>& model) {
  std::vector<std::string> names{
      "flow_loss",          "distance_to_flow",          "relative_distance",         "eta_sharpness",
      "modified_flow_loss", "distance_to_modified_flow", "relative_distance_modified"};
  if (model) {
    const std::string m(to_string(*model));
    for (const std::string& name :
         {m + "_flow_loss", m + "_average_loss", m + "_sharpness", "distance_to_" + m + "_flow",
          "distance_of_average_to_" + m + "_flow", m + "_sigma2"})
      names.push_back(name);
  }
  return names;
}

std::vector<double> comparison_values(const FlowComparison& c, bool with_model) {
  std::vector<double> values{c.flow_loss,          c.distance,          c.relative_distance,         c.eta_sharpness,
                             c.modified_flow_loss, c.modified_distance, c.modified_relative_distance};
  if (with_model) {
    const ModelComparison& m = c.model;
    for (const double x : {m.loss, m.average_loss, m.sharpness, m.distance, m.average_distance, m.sigma2})
      values.push_back(x);
  }
  return values;
}

FlowOptions FlowFollower::accurate() {
  FlowOptions options;
  options.solver = Solver::dopri5;
  options.rtol = 1e-10;
  options.atol = 1e-12;
  return options;
}

FlowFollower::FlowFollower(const Objective& objective, const Vector& theta0, double leave_tol, FlowOptions flow)
    : objective_(objective),
      theta0_(theta0),
      theta0_norm_(theta0.norm()),
      leave_tol_(leave_tol),
      flow_(std::move(flow)),
      theta_(theta0),
      loss_(objective.loss(theta0)),
      modified_theta_(theta0),
      modified_loss_(loss_) {
  if (!(leave_tol > 0.0) || !std::isfinite(leave_tol)) {
    throw std::invalid_argument("FlowFollower: leave_tol must be finite and > 0");
  }
  // Only the end of each segment is needed.
  flow_.save = SaveAt{};
  flow_.save.keep_rows = false;
  flow_.observe = Observables{};
  flow_.stop.loss_tol = 0.0;
  flow_.stop.grad_tol = 0.0;
  flow_.radius.reset();
}

void FlowFollower::add_edge_of_stability_flow(FlowModel model) {
  if (model != FlowModel::central && model != FlowModel::edge)
    throw std::invalid_argument("the " + std::string(to_string(model)) +
                                " flow is not a model of the edge of stability (central, edge)");
  if (!objective_.has_exact_hessian_vector())
    throw std::invalid_argument("the " + std::string(to_string(model)) +
                                " flow needs exact Hessian-vector products, which " + objective_.name() +
                                " does not have");
  model_ = model;
  model_counted_ = std::make_unique<CountingObjective>(objective_);
  model_state_.resize(0);  // started at the first segment, with that segment's step
}

void FlowFollower::update_fidelity(const Row& row, const FlowComparison& c) {
  const auto deviation = [](double predicted, double actual) {
    return std::abs(predicted - actual) / std::max(std::abs(actual), std::numeric_limits<double>::min());
  };
  Fidelity& f = fidelity_;
  if (row.iter > 0) {
    ++f.rows;
    f.plain = std::max(f.plain, deviation(c.flow_loss, row.loss));
    f.modified = std::max(f.modified, deviation(c.modified_flow_loss, row.loss));
  }
  if (model_ && std::isfinite(loss2_) && std::isfinite(predicted_loss_)) {
    ++f.model_rows;
    f.model = std::max(f.model, deviation(predicted_loss_, 0.25 * loss2_ + 0.5 * loss1_ + 0.25 * row.loss));
    const double sharpness = 0.25 * sharpness2_ + 0.5 * sharpness1_ + 0.25 * row.observed.sharpness;
    if (std::isfinite(sharpness) && std::isfinite(predicted_sharpness_))
      f.model_sharpness = std::max(f.model_sharpness, deviation(predicted_sharpness_, sharpness));
  }
  loss2_ = loss1_;
  loss1_ = row.loss;
  sharpness2_ = sharpness1_;
  sharpness1_ = row.observed.sharpness;
  predicted_loss_ = c.model.average_loss;
  predicted_sharpness_ = c.model.sharpness;
}

FlowComparison FlowFollower::compare(const Row& row, const ConstVectorView& theta, double eta) {
  FlowComparison c;
  if (!failure_.empty()) return c;
  if (row.t > t_) {
    FlowOptions segment = flow_;
    segment.t_end = row.t - t_;
    segment.save.times = {segment.t_end};  // one row at the end: no row at every step
    const FlowResult r = simulate_flow(objective_, theta_, segment);
    add_counts(stats_, r.stats);
    if (r.status != Status::reached_end_time) {
      failure_ = "the flow stopped at t = " + std::to_string(t_ + r.t_final) + ": " + r.message;
      return c;
    }
    // The modified flow of the segment's step: its length over its iterations.
    const double segment_eta = row.iter > iter_ ? segment.t_end / static_cast<double>(row.iter - iter_) : eta;
    const ModifiedLoss modified(objective_, std::isfinite(segment_eta) && segment_eta >= 0.0 ? segment_eta : 0.0);
    const FlowResult m = simulate_flow(modified, modified_theta_, segment);
    add_counts(modified_stats_, m.stats);
    if (m.status != Status::reached_end_time) {
      failure_ = "the modified flow stopped at t = " + std::to_string(t_ + m.t_final) + ": " + m.message;
      return c;
    }
    if (model_ && std::isfinite(segment_eta) && segment_eta > 0.0) {
      const std::unique_ptr<EdgeOfStabilityFlow> flow = edge_of_stability_flow(*model_counted_, *model_, segment_eta);
      if (model_state_.size() == 0) model_state_ = flow->start(theta0_);
      // Its field is as accurate as the Lanczos sharpness and grad S (about 1e-10 relative): a tighter rtol
      // than the field's own accuracy only rejects steps.
      FlowOptions model_segment = segment;
      model_segment.rtol = std::max(segment.rtol, kCentralFlowRtol);
      model_segment.atol = std::max(segment.atol, kCentralFlowRtol * 1e-2);
      const FlowResult mr = simulate_flow(*flow, model_state_, model_segment);
      if (mr.status != Status::reached_end_time) {
        failure_ = "the " + std::string(to_string(*model_)) +
                   " flow stopped at t = " + std::to_string(t_ + mr.t_final) + ": " + mr.message;
        return c;
      }
      model_state_ = mr.theta;
      model_point_ = flow->state(model_state_);
      const EvaluationCounts k = model_counted_->counts();
      model_stats_.num_gradient_evals = k.num_gradient_evals;
      model_stats_.num_loss_evals = k.num_loss_evals;
      model_stats_.num_hessian_vector_evals = k.num_hessian_vector_evals;
    }
    theta_ = r.theta;
    loss_ = r.loss_final;
    modified_theta_ = m.theta;
    modified_loss_ = objective_.loss(modified_theta_);
    t_ = row.t;
  }
  iter_ = row.iter;
  const double floor = std::numeric_limits<double>::min();
  c.flow_loss = loss_;
  c.distance = (theta - theta_).norm();
  c.relative_distance = c.distance / std::max({theta_.norm(), theta0_norm_, floor});
  c.eta_sharpness = eta * row.observed.sharpness;
  c.modified_flow_loss = modified_loss_;
  c.modified_distance = (theta - modified_theta_).norm();
  c.modified_relative_distance = c.modified_distance / std::max({modified_theta_.norm(), theta0_norm_, floor});
  if (!left_ && c.relative_distance > leave_tol_) {
    left_ = LeaveFlow{row.iter, row.t, c.relative_distance, row.observed.sharpness, c.eta_sharpness};
  }
  if (!(c.eta_sharpness <= max_eta_sharpness_)) {  // also the first finite one
    if (!std::isnan(c.eta_sharpness)) max_eta_sharpness_ = c.eta_sharpness;
  }
  if (c.eta_sharpness >= kAtEdge) {
    ++rows_at_edge_;
    if (std::isfinite(last_row_t_)) time_at_edge_ += row.t - last_row_t_;
  }
  last_row_t_ = row.t;
  if (!edge_ && c.eta_sharpness >= 2.0) {
    edge_ = LeaveFlow{row.iter, row.t, c.modified_relative_distance, row.observed.sharpness, c.eta_sharpness};
  }
  if (model_) {
    const Vector iterate = theta;
    if (row.iter == 0) {
      // The start: the model is descent's own point.
      c.model.loss = c.model.average_loss = loss_;
      c.model.distance = c.model.average_distance = (iterate - theta_).norm();
    } else if (model_point_.center.size() == iterate.size()) {
      const ModelState& m = model_point_;
      c.model.loss = m.loss;
      c.model.average_loss = m.average_loss;
      c.model.sharpness = m.sharpness;
      c.model.sigma2 = m.sigma2;
      c.model.distance = m.offset.size() == iterate.size()
                             ? std::min((iterate - m.center - m.offset).norm(), (iterate - m.center + m.offset).norm())
                             : (iterate - m.center).norm();
      c.model.average_distance = previous_iterate_.size() == iterate.size()
                                     ? (0.5 * (iterate + previous_iterate_) - m.center).norm()
                                     : (iterate - m.center).norm();
    }
    previous_iterate_ = iterate;
  }
  update_fidelity(row, c);
  if (!left_modified_ && c.modified_relative_distance > leave_tol_) {
    left_modified_ = LeaveFlow{row.iter, row.t, c.modified_relative_distance, row.observed.sharpness, c.eta_sharpness};
  }
  return c;
}

}  // namespace gradflow

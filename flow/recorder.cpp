#include <gradflow/flow/recorder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gradflow {

RowRecorder::RowRecorder(const SaveAt& save, RunKind kind, Eigen::Index p, PathObserver* observer)
    : save_(save), kind_(kind), p_(static_cast<std::size_t>(p)), observer_(observer) {}

const Row& RowRecorder::record(const Row& row_in, const ConstVectorView& theta) {
  ++count_;
  last_ = row_in;
  if (observer_ != nullptr) {
    last_.observed = observer_->at(theta);
    if (identity_violation_.empty()) {
      const std::string failure = gradflow::identity_violation(last_.observed, last_.loss, last_.grad_norm);
      if (!failure.empty()) {
        char where[64];
        if (kind_ == RunKind::flow) {
          std::snprintf(where, sizeof where, "at the row t = %.10g: ", last_.t);
        } else {
          std::snprintf(where, sizeof where, "at the row of iteration %ld: ", last_.iter);
        }
        identity_violation_ = where + failure;
      }
    }
  }
  if (save_.sink) save_.sink(last_, theta);
  if (save_.keep_rows || rows_.size() < 2) {
    rows_.push_back(last_);
    if (save_.states) states_.insert(states_.end(), theta.data(), theta.data() + p_);
  } else {
    // Only the first and the last: the new row replaces the last one.
    rows_.back() = last_;
    if (save_.states) std::copy(theta.data(), theta.data() + p_, states_.end() - static_cast<std::ptrdiff_t>(p_));
  }
  return last_;
}

Matrix RowRecorder::states() const {
  if (!save_.states) return Matrix();
  return Eigen::Map<const Matrix>(states_.data(), static_cast<Eigen::Index>(p_),
                                  static_cast<Eigen::Index>(rows_.size()));
}

ObserveCounts RowRecorder::observe_counts() const { return observer_ ? observer_->counts() : ObserveCounts{}; }

void add_observe_counts(Stats& stats, const ObserveCounts& counts) {
  stats.num_observe_hessian_vector_evals = counts.hessian_vector;
  stats.num_observe_gram_products = counts.gram_products;
  stats.num_observe_gram_matrices = counts.gram_matrices;
}

}  // namespace gradflow

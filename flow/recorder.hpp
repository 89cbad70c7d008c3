/// @file
/// The one recorder of a run's rows, for the flow and for descent alike (flow/trajectory.hpp): it
/// builds a row's common columns from the point (RowMaker), adds the observables to every recorded row
/// and checks the identity they must satisfy (theory/observables.hpp), hands the row to the row sink,
/// and keeps the rows (all, or the first and the last) with their states as SaveAt says.
#pragma once

#include <gradflow/flow/row_fields.hpp>
#include <gradflow/flow/trajectory.hpp>
#include <gradflow/theory/observables.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// Records a run's rows (see the file comment); one per run, used by simulate_flow and descend.
class RowRecorder {
 public:
  /// observer (may be null): the observables added to every recorded row; it must outlive the recorder.
  RowRecorder(const SaveAt& save, RunKind kind, Eigen::Index p, PathObserver* observer);

  /// Records the row: observes, checks the identity, calls the sink, keeps. Returns the row as recorded.
  const Row& record(const Row& row, const ConstVectorView& theta);

  /// True once a row was recorded.
  bool recorded_any() const { return count_ > 0; }
  /// The row recorded last, with its observables.
  const Row& last() const { return last_; }
  /// The rows recorded, kept or not.
  long count() const { return count_; }
  /// The kept rows (all, or with save.keep_rows = false the first and the last); the caller may move them out.
  std::vector<Row>& rows() { return rows_; }
  /// With save.states: p x rows().size(), column i the state at rows()[i]; otherwise an empty matrix.
  Matrix states() const;
  /// The first failure of ||grad L||^2 >= 2 ntk_min L at a recorded row ("at the row t = ...: ..."), or "".
  const std::string& identity_violation() const { return identity_violation_; }
  /// The observation's work (zero without an observer).
  ObserveCounts observe_counts() const;

 private:
  const SaveAt& save_;
  RunKind kind_;
  std::size_t p_;
  PathObserver* observer_;
  std::vector<Row> rows_;
  std::vector<double> states_;  ///< column after column, p entries per kept row
  Row last_;
  long count_ = 0;
  std::string identity_violation_;
};

/// Copies the observation's counters into stats (Stats::num_observe_*).
void add_observe_counts(Stats& stats, const ObserveCounts& counts);

}  // namespace gradflow

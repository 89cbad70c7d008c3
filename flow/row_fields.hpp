/// @file
/// The columns of a row (flow/trajectory.hpp), declared once: the name, the unit, one line of
/// documentation, which outputs carry it, and how to read it from (and write it into) a Row. Every
/// place that writes or reads rows goes through this table: the trajectory CSV of `gradflow flow --out`
/// and `gradflow descend --out`, the sweeps' curves, the Python module's arrays and row dicts, the
/// command-line help and the documentation's column lists (docs/reference/flow.md). A new column is one entry here and,
/// for a value that is stored rather than derived from the others, one member of Row (CONTRIBUTING.md shows how).
#pragma once

#include <gradflow/flow/trajectory.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// Which outputs carry a column (a bit mask).
enum RowOutput : unsigned {
  kFlowRows = 1u,     ///< gradflow flow --out, FlowResult
  kDescentRows = 2u,  ///< gradflow descend --out, DescentResult
  kCurveRows = 4u,    ///< the sweeps' curves (experiments/trial.hpp), a row per recorded step
};

/// One column of a row: its metadata and its accessors (an entry of row_fields()).
struct RowField {
  std::string_view name;              ///< the CSV column and the Python key
  std::string_view unit;              ///< "loss", "time", ... ("1" for a pure number)
  std::string_view doc;               ///< one line
  unsigned outputs;                   ///< RowOutput bits
  bool integer;                       ///< written as a whole number
  bool (*asked)(const Observables&);  ///< an observed column: present only when this says so; nullptr: always
  double (*get)(const Row&);          ///< the column's value in a row (an integer column as a double)
  void (*set)(Row&, double);          ///< writes a value into the row's member (rounded for an integer column)
};

/// The columns every row has, computed from the point (next to their entries in the table, so that a
/// new column is this file and flow/trajectory.hpp): dist_from_init and pl_ratio (NaN where L = L_min or L_min
/// is unknown). The caller sets iter, step_size and bound, whose formulas are its own.
class RowMaker {
 public:
  /// theta0: the run's start (for dist_from_init); min_value: L_min (for pl_ratio), empty when unknown.
  RowMaker(const ConstVectorView& theta0, std::optional<double> min_value) : theta0_(theta0), min_value_(min_value) {}
  /// The row at time t of the point theta with L = loss and ||grad L|| = grad_norm: t, loss, grad_norm,
  /// dist_from_init and pl_ratio set, every other member at its default.
  Row make(double t, const ConstVectorView& theta, double loss, double grad_norm) const;
  /// The PL ratio from the squared gradient norm (the form descent keeps).
  double pl_ratio(double loss, double grad_norm_squared) const;
  /// p, the size of theta0.
  Eigen::Index dimension() const { return theta0_.size(); }

 private:
  Vector theta0_;
  std::optional<double> min_value_;
};

/// Every column, in the order the files write them.
const std::vector<RowField>& row_fields();
/// The field named name, or nullptr.
const RowField* find_row_field(std::string_view name);

/// The columns of an output (one RowOutput bit), with the observed columns asked for.
std::vector<const RowField*> row_columns(RowOutput output, const Observables& observe);
/// The output of a run's own rows: kFlowRows for the flow, kDescentRows for descent.
inline RowOutput row_output(RunKind kind) { return kind == RunKind::flow ? kFlowRows : kDescentRows; }

/// "t,loss,grad_norm,...": the header, without a line break.
std::string row_csv_header(const std::vector<const RowField*>& columns);
/// One line of those columns, without a line break: whole numbers as such, the others with 17
/// significant digits; a NaN as nan_text ("nan" in the trajectory files, "" in the sweeps' files).
std::string row_csv_line(const Row& row, const std::vector<const RowField*>& columns, std::string_view nan_text);

}  // namespace gradflow

/// @file
/// Callbacks that ship with the library and work with every run, flow or descent (flow/trajectory.hpp),
/// as ensmallen's ProgressBar and PrintLoss work with every optimizer: the command line attaches these
/// same objects, and so can any client.
///
///   gradflow::ProgressLine progress(gradflow::RunKind::flow, options.t_end);      // an Observer
///   std::ofstream file("rows.csv");
///   gradflow::CsvRowWriter rows(file, gradflow::RunKind::flow, options.observe);   // a RowSink
///   gradflow::PathExtremes extremes;                                              // a RowSink
///   options.save.sink = gradflow::all_of({std::ref(rows), std::ref(extremes)});
///   gradflow::simulate_flow(problem, theta0, options, std::ref(progress));
///
/// None of them is safe to share between runs on several threads: give each run its own.
#pragma once

#include <gradflow/flow/row_fields.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <chrono>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace gradflow {

/// An Observer that prints "  t = 3.2 of 10 (32.0%), loss 1.2e-03" (the flow) or "  iteration 320 of
/// 1000, loss 1.2e-03" (descent) over itself on one line of out, at most five times a second, and
/// never stops the run. finish() clears the line.
class ProgressLine {
 public:
  /// total: the flow's t_end, or descent's iteration budget.
  ProgressLine(RunKind kind, double total, std::FILE* out = stderr);
  /// Prints the progress of row over the line (at most every 200 ms); theta is not used. Always returns
  /// false: the run goes on.
  bool operator()(const Row& row, ConstVectorView theta = ConstVectorView(Vector()));
  /// Blanks the line and returns the cursor to its start, when anything was printed.
  void finish() const;

 private:
  RunKind kind_;
  double total_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point last_;
  bool shown_ = false;
};

/// A RowSink that writes every row as a CSV line through the row field table (flow/row_fields.hpp):
/// the columns of the run's kind and of its observe list, at full precision, NaN as "nan". extra (may
/// be empty) adds columns of the caller's after them: extra_header is their header (",a,b"), and
/// extra(row, theta) their fields (",1.5,2"). The header is written by the constructor.
class CsvRowWriter {
 public:
  /// The caller's extra fields of a row, each preceded by a comma (",1.5,2"), without a line break.
  using Extra = std::function<std::string(const Row& row, ConstVectorView theta)>;
  /// Writes the header line to out (which must outlive the writer): the columns of kind and observe,
  /// then extra_header.
  CsvRowWriter(std::ostream& out, RunKind kind, const Observables& observe, std::string extra_header = "",
               Extra extra = {});
  /// Writes row as one line: its columns, then extra(row, theta) when extra is set.
  void operator()(const Row& row, ConstVectorView theta);
  /// The rows written so far (the header not counted).
  long rows() const { return rows_; }

 private:
  std::ostream& out_;
  std::vector<const RowField*> columns_;
  Extra extra_;
  long rows_ = 0;
};

/// A RowSink that writes the state at every row as a CSV line: the row's t (the flow) or iter
/// (descent), then theta_1 ... theta_p at full precision. The header is written by the constructor.
class CsvStateWriter {
 public:
  /// Writes the header "t,theta_1,...,theta_p" (flow) or "iter,theta_1,...,theta_p" (descent) to out,
  /// which must outlive the writer.
  CsvStateWriter(std::ostream& out, RunKind kind, Eigen::Index p);
  /// Writes the line of row's t (or iter) and every entry of theta.
  void operator()(const Row& row, ConstVectorView theta);

 private:
  std::ostream& out_;
  RunKind kind_;
};

/// A RowSink that keeps the extremes of the observables along the rows (NaN where none was observed):
/// the smallest ntk_min, the largest ntk_max and sharpness, the smallest pl_ratio - ntk_min (which the
/// identity of theory/observables.hpp keeps >= 0).
class PathExtremes {
 public:
  /// Folds row.observed (and row.pl_ratio) into the extremes; theta is not used.
  void operator()(const Row& row, ConstVectorView theta = ConstVectorView(Vector()));
  /// The rows seen so far.
  long rows() const { return rows_; }
  /// The smallest Observed::ntk_min seen (NaN when none).
  double ntk_min() const { return ntk_min_; }
  /// The largest Observed::ntk_max seen (NaN when none).
  double ntk_max() const { return ntk_max_; }
  /// The largest Observed::sharpness seen (NaN when none).
  double sharpness_max() const { return sharpness_max_; }
  /// The smallest pl_ratio - ntk_min over the rows where both are known (NaN when none).
  double pl_minus_ntk_min() const { return margin_; }

 private:
  long rows_ = 0;
  double ntk_min_ = std::numeric_limits<double>::quiet_NaN();
  double ntk_max_ = std::numeric_limits<double>::quiet_NaN();
  double sharpness_max_ = std::numeric_limits<double>::quiet_NaN();
  double margin_ = std::numeric_limits<double>::quiet_NaN();
};

/// One RowSink that calls each of sinks in order (empty ones are skipped).
RowSink all_of(std::vector<RowSink> sinks);

/// min and max that keep the first non-NaN value (NaN only when both are).
double nan_min(double a, double b);
/// max that keeps the first non-NaN value: a when b is NaN, b when a is NaN (NaN only when both are).
double nan_max(double a, double b);

}  // namespace gradflow

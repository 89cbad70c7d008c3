/// @file
/// One run of a sweep as it is recorded (a line of runs.csv, a dict of gradflow.compare_inits), and the
/// columns of that record declared once: the name, the unit, one line of documentation, how to read the
/// value from a record and how to set it from the file's text. runs.csv is written and read through
/// this table by column name, never by position; the Python module's run dicts come from it too. A new
/// column is one entry in run_fields() (experiments/run_record.cpp) and, when it is stored rather than
/// derived, one member of RunRecord here (CONTRIBUTING.md shows how).
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/trial.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

struct RunRecord {
  RunSpec run;
  long n = 0, d = 0, params = 0;
  double output_scale = 1.0;
  std::uint64_t init_seed = 0;
  double loss0 = 0.0;
  /// The certificate of the method that ran: descent's (max phi > 2 ||r0||, step 1/beta_r) for descent
  /// methods, the flow's (max phi > ||r0||) for flow solvers.
  int certified = -1;  ///< 1 holds, 0 does not, -1 the theory does not apply
  double certified_mu = std::numeric_limits<double>::quiet_NaN();
  double certified_travel = std::numeric_limits<double>::quiet_NaN();
  double input_condition = std::numeric_limits<double>::quiet_NaN();  ///< sigma_max(X) / sigma_n(X), after transform
  double beta0 = std::numeric_limits<double>::quiet_NaN();  ///< sharpness at theta0 (power iteration, an estimate)
  double lr = std::numeric_limits<double>::quiet_NaN();     ///< descent: the step (fixed) or first trial (armijo)
  double loss_target = 0.0;                                 ///< the absolute loss the run had to reach
  bool reached = false;                                     ///< loss <= eps L0 within the budget
  long steps_to_eps = -1;                                   ///< iterations or accepted flow steps (-1: not reached)
  double time_to_eps = std::numeric_limits<double>::quiet_NaN();  ///< flow time, or the sum of descent steps
  double time_beta0 = std::numeric_limits<double>::quiet_NaN();   ///< time_to_eps x beta0 (comparable across scales)
  /// flow: the rtol of the run whose time is time_to_eps, and the time's relative change at the last
  /// tightening (its accuracy; TrialResult::time_rtol, time_change). NaN for descent.
  double time_rtol = std::numeric_limits<double>::quiet_NaN();
  double time_change = std::numeric_limits<double>::quiet_NaN();
  double final_loss = 0.0;
  long steps = 0;
  /// The training's work (the certificate and the beta0 estimate are not counted): gradient and loss
  /// evaluations and Hessian-vector products made by the descent or the solver, all steps included.
  long grad_evals = 0, loss_evals = 0, hvp_evals = 0;
  std::string status;
  double train_seconds = 0.0;  ///< wall time of the training alone
  double wall_seconds = 0.0;   ///< the whole run; these two columns depend on the machine's load
  /// --observe (SweepSpec::observe) at the run's recorded rows (experiments/trial.hpp); NaN when not asked.
  TrialObserved observed;
  long loss_rises = 0;  ///< descent: iterations whose loss rose (TrialResult::loss_rises)
  long catapults = 0;   ///< descent: catapults (TrialResult::catapults)
  /// Held-out points (experiments/held_out.hpp; NaN and 0 points without them), the travel and the
  /// kernel's drift (TrialResult::travel, travel_fraction, ntk_drift, ntk_condition0).
  HeldOutMetrics held_out;
  double travel = std::numeric_limits<double>::quiet_NaN();
  double travel_fraction = std::numeric_limits<double>::quiet_NaN();
  double ntk_drift = std::numeric_limits<double>::quiet_NaN();
  double ntk_condition = std::numeric_limits<double>::quiet_NaN();
};

struct RunField {
  std::string_view name;  ///< the runs.csv column and the Python key
  std::string_view unit;  ///< "gradients", "loss", "1", ...
  std::string_view doc;   ///< one line
  std::function<Value(const RunRecord&)> get;
  /// Sets the value from the file's text; false when the text is not one (the line is then refused).
  std::function<bool(RunRecord&, const std::string&)> set;
};

/// What the trial of the record's run found (experiments/trial.hpp), into the record: its certificate,
/// work, outcome and observations (next to the table, so that a new column is this file's pair).
void record_trial(RunRecord& record, const TrialResult& trial);

/// Every column of runs.csv, in the file's order.
const std::vector<RunField>& run_fields();
std::string runs_csv_header();                     ///< without the line break
std::string to_csv_line(const RunRecord& record);  ///< without the line break
/// The record's columns by name (the Python module's run dict).
NamedValues run_values(const RunRecord& record);

/// Reads runs.csv lines by the names of its header: a column the header lacks keeps its default, a
/// column the reader does not know is ignored, and a line whose key does not match its coordinates or
/// whose field is malformed is refused (nothing).
class RunsCsvReader {
 public:
  explicit RunsCsvReader(const std::string& header);
  /// Whether the header names the key and the coordinates, without which no line can be read.
  bool usable() const { return usable_; }
  std::optional<RunRecord> parse(const std::string& line) const;

 private:
  std::vector<const RunField*> columns_;  ///< by position in the file; null for an unknown name
  bool usable_ = false;
};

/// The whole lines of a runs.csv (a torn last line, without its line break, is not one) that parse;
/// an empty list for a missing file.
std::vector<RunRecord> read_runs(const std::string& path);

}  // namespace gradflow

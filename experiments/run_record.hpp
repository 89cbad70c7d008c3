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

/// One run's line of runs.csv: its coordinates, data and network sizes, certificate, work and outcome,
/// observations and held-out metrics. execute_run() (experiments/sweep_runner.hpp) fills it.
struct RunRecord {
  RunSpec run;                  ///< the run's coordinates (the key, init, width, ..., scale, condition_power)
  long n = 0,                   ///< the training samples of the data set (without the held-out ones)
      d = 0,                    ///< the features of the data set
      params = 0;               ///< the network's parameters p
  double output_scale = 1.0;    ///< the scale of the output layer at initialization (auto and paths resolved)
  std::uint64_t init_seed = 0;  ///< the seed of the initialization (RunSpec::init_seed())
  double loss0 = 0.0;           ///< L(theta0), the training loss at initialization
  /// The certificate of the method that ran: descent's (max phi > 2 ||r0||, step 1/beta_r) for descent
  /// methods, the flow's (max phi > ||r0||) for flow solvers.
  int certified = -1;  ///< 1 holds, 0 does not, -1 the theory does not apply
  double certified_mu = std::numeric_limits<double>::quiet_NaN();      ///< the certified PL constant mu, else NaN
  double certified_travel = std::numeric_limits<double>::quiet_NaN();  ///< the certified travel bound, else NaN
  double input_condition = std::numeric_limits<double>::quiet_NaN();   ///< sigma_max(X) / sigma_n(X), after transform
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
  double time_change = std::numeric_limits<double>::quiet_NaN();  ///< flow: that relative change (+inf: not settled)
  double final_loss = 0.0;                                        ///< the loss at the end of the training
  long steps = 0;                                                 ///< iterations or accepted flow steps made
  /// The training's work (the certificate and the beta0 estimate are not counted): gradient and loss
  /// evaluations and Hessian-vector products made by the descent or the solver, all steps included.
  long grad_evals = 0,         ///< gradient evaluations
      loss_evals = 0,          ///< loss-only evaluations
      hvp_evals = 0;           ///< Hessian-vector products
  std::string status;          ///< how the training ended: the Status's name (to_string(TrialResult::status))
  double train_seconds = 0.0;  ///< wall time of the training alone
  double wall_seconds = 0.0;   ///< the whole run; these two columns depend on the machine's load
  /// --observe (SweepSpec::observe) at the run's recorded rows (experiments/trial.hpp); NaN when not asked.
  TrialObserved observed;
  long loss_rises = 0;  ///< descent: iterations whose loss rose (TrialResult::loss_rises)
  long catapults = 0;   ///< descent: catapults (TrialResult::catapults)
  /// Held-out points (experiments/held_out.hpp; NaN and 0 points without them), the travel and the
  /// kernel's drift (TrialResult::travel, travel_fraction, ntk_drift, ntk_condition0).
  HeldOutMetrics held_out;
  double travel = std::numeric_limits<double>::quiet_NaN();           ///< ||theta_T - theta0||
  double travel_fraction = std::numeric_limits<double>::quiet_NaN();  ///< travel / r* (NaN: no certificate)
  double ntk_drift = std::numeric_limits<double>::quiet_NaN();        ///< ||K_T - K_0||_F / ||K_0||_F of the NTK
  double ntk_condition = std::numeric_limits<double>::quiet_NaN();    ///< lambda_max(K_0) / lambda_min(K_0)
};

/// One column of runs.csv: its name, unit and documentation, and how to read and set the value of a
/// RunRecord.
struct RunField {
  std::string_view name;                       ///< the runs.csv column and the Python key
  std::string_view unit;                       ///< "gradients", "loss", "1", ...
  std::string_view doc;                        ///< one line
  std::function<Value(const RunRecord&)> get;  ///< the record's value (null for NaN or an absent option)
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
/// The record's columns by name.
NamedValues run_values(const RunRecord& record);
/// runs.csv's order: the records sorted by key, one per key (of equal keys the first in `records`
/// stays). Each key is made once, not once per comparison (a key is formatted text).
void sort_by_key(std::vector<RunRecord>& records);

/// Reads runs.csv lines by the names of its header: a column the header lacks keeps its default, a
/// column the reader does not know is ignored, and a line whose key does not match its coordinates or
/// whose field is malformed is refused (nothing).
class RunsCsvReader {
 public:
  /// Maps the columns of `header` (runs.csv's first line, without the line break) to their fields by name.
  explicit RunsCsvReader(const std::string& header);
  /// Whether the header names the key and the coordinates, without which no line can be read.
  bool usable() const { return usable_; }
  /// The record of one line (without its line break); nothing when the reader is not usable, the line has
  /// another number of fields than the header, a field is malformed or the coordinates do not give the key.
  std::optional<RunRecord> parse(const std::string& line) const;

 private:
  std::vector<const RunField*> columns_;  ///< by position in the file; null for an unknown name
  bool usable_ = false;
};

/// The whole lines of a runs.csv (a torn last line, without its line break, is not one) that parse;
/// an empty list for a missing file.
std::vector<RunRecord> read_runs(const std::string& path);

}  // namespace gradflow

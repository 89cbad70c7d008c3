// What `gradflow flow` and `gradflow descend` share once their own options are read: the files written
// as the run goes (--out through the row field table, --states-out), the progress line and the
// observation's extremes (the library's callbacks, flow/callbacks.hpp), and the end of the run (the
// final theta, the JSON summary from the result's named values, the report, the exit code).
#pragma once

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/common_options.hpp>
#include <gradflow/apps/observe_output.hpp>
#include <gradflow/core/named_value.hpp>
#include <gradflow/flow/callbacks.hpp>
#include <gradflow/flow/trajectory.hpp>
#include <gradflow/theory/certificate.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace gradflow::cli {

// What a run command (flow, descend) does once its own options are read: the thread count checked, the
// problem's arguments prepared, the certificate's depth checked (with --certify), every output checked
// against the inputs (extra: the command's own outputs), the problem loaded, the observables checked
// against it, the network's threads set, the data report printed.
struct PreparedRun {
  LoadedProblem loaded;
  int threads = 1;
};
PreparedRun prepare_run(CLI::App& command, const char* name, ProblemArgs& problem, const OutputArgs& output,
                        long threads, bool certify, const Observables& observe,
                        const std::vector<std::pair<const char*, std::string>>& extra_outputs);
// --certify: the certificate at theta0 (--mu is refused beside it: the certificate sets mu, and a theta0
// read from theta0_path where the loss is not finite is refused naming --theta0), its report printed
// unless --quiet.
Certificate certify_start(CLI::App& command, double mu, const LoadedProblem& loaded, const std::string& theta0_path,
                          bool quiet);
// A warning that an option given is ignored by the method chosen (a shared config file may set it).
void warn_unused(CLI::App& command, bool quiet, const char* name, const char* option, const std::string& chosen,
                 const char* users);

// The Stop options of a run command (flow/trajectory.hpp): --loss-tol, --grad-tol, the budget (named
// budget_flag: --max-steps or --max-iters, bound to budget, which the command copies into
// stop.max_steps) and --max-wall-seconds.
void add_stop_options(CLI::App& command, Stop& stop, long& budget, const char* budget_flag, const std::string& help);

// The option flags of the options structs' nested fields that do not follow flag_for_field's rule.
extern const std::map<std::string, std::string> kFlowFlags;
extern const std::map<std::string, std::string> kDescentFlags;

// The columns of an output as --help lists them: "  t (time): flow time; ...", one per line, from the
// row field table (flow/row_fields.hpp).
std::string columns_help(RowOutput output);

// Named values as a JSON object (null, bool, integer, number or string each).
nlohmann::json to_json(const NamedValues& values);

// The rows file (--out), the states file (--states-out), the extremes of the observables and the
// progress line of one run. sink() is the run's row sink; finish() writes the files whole and commit()
// renames them into place once the run has ended (without it they are removed: nothing half written).
class TrajectoryOutputs {
 public:
  // extra_header / extra: the command's own columns after the table's (descend --against-flow).
  TrajectoryOutputs(RunKind kind, const OutputArgs& output, const std::string& states_out, const Observables& observe,
                    Eigen::Index p, std::string extra_header = "", CsvRowWriter::Extra extra = {});
  RowSink sink();
  // The progress observer (a line on a terminal, unless --quiet), or an empty one.
  Observer progress(double total);
  void end_progress() const;
  void finish();
  void commit();
  const PathExtremes& extremes() const { return extremes_; }
  long rows() const { return extremes_.rows(); }

 private:
  RunKind kind_;
  bool quiet_;
  StreamedOutput rows_file_, states_file_;
  std::optional<CsvRowWriter> rows_;
  std::optional<CsvStateWriter> states_;
  PathExtremes extremes_;
  std::optional<ProgressLine> progress_;
};

// The end of a run of `gradflow <command>`.
struct RunEnd {
  const char* command = "";
  RunKind kind = RunKind::flow;
  const TrajectoryResult* result = nullptr;
  NamedValues summary;  // result->summary()
  std::string report;   // result->full_report()
  const LoadedProblem* loaded = nullptr;
  const OutputArgs* output = nullptr;
  const Observables* observe = nullptr;
  int threads = 1;
  // The certificate computed with --certify, and whether it holds for the method that ran (the flow's
  // or descent's condition): its mu then bounds the observed ntk_min from below.
  std::optional<Certificate> certificate;
  bool certified = false;
  std::function<void(nlohmann::json&)> add_json;  // the command's own keys
  std::string extra_report;                       // printed after the report
};

// The end of a run of `gradflow <command>` from its result (summary() and full_report()) and its
// setting; the command adds its certificate and its own JSON keys.
template <class Result>
RunEnd run_end(const char* command, RunKind kind, const Result& result, const LoadedProblem& loaded,
               const OutputArgs& output, const Observables& observe, int threads) {
  RunEnd end;
  end.command = command;
  end.kind = kind;
  end.result = &result;
  end.summary = result.summary();
  end.report = result.full_report();
  end.loaded = &loaded;
  end.output = &output;
  end.observe = &observe;
  end.threads = threads;
  return end;
}

// Where mu came from, for the JSON summary: "certificate (rigorous)", "option", "problem (exact)" or
// "unknown".
std::string mu_source(bool certified, bool given, bool known);

// Writes --theta-out and --json, prints the report (unless --quiet), and returns the exit code: 0 when
// the run succeeded, else 1 with "gradflow <command>: <status>: <message>" on standard error.
int finish_run(const RunEnd& end, TrajectoryOutputs& outputs);

}  // namespace gradflow::cli

// The sweep's table: per data set, method, activation, depth, width and initialization scheme, the
// number of runs, the fraction that reached eps L0, the median and interquartile range of the steps to
// eps (a run that did not converge counts as infinitely many steps), and how much faster the positive
// initialization is than this scheme (median steps of the scheme / median steps of positive).
#pragma once

#include <gradflow/experiments/sweep_runner.hpp>

#include <string>
#include <vector>

namespace gradflow {

struct SummaryRow {
  std::string dataset, method, activation, init;
  long depth = 0, width = 0;
  long runs = 0, converged = 0, certified = 0;
  double median_steps = 0.0, q25_steps = 0.0, q75_steps = 0.0;  // +inf when not enough runs converged
  double median_time = 0.0;
  double positive_speedup = std::numeric_limits<double>::quiet_NaN();  // NaN for positive itself or without it
};

// Linear-interpolation quantile (numpy's default) of values sorted in place; +inf propagates.
double quantile(std::vector<double>& values, double q);

std::vector<SummaryRow> summarize(const std::vector<RunRecord>& records);

extern const char* const kSummaryHeader;
void write_summary(const std::string& path, const std::vector<SummaryRow>& rows);
// A table for the terminal.
std::string format_summary(const std::vector<SummaryRow>& rows);

}  // namespace gradflow

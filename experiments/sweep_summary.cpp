#include <gradflow/experiments/sweep_summary.hpp>

#include <gradflow/core/output_file.hpp>
#include <gradflow/core/text.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>
#include <tuple>

namespace gradflow {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string number(double x) {
  if (std::isnan(x)) return "";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return full_precision(x);
}

using GroupKey =
    std::tuple<std::string, std::string, std::string, long, long>;  // dataset, method, activation, depth, width

}  // namespace

const char* const kSummaryHeader =
    "dataset,method,activation,depth,width,init,runs,converged,converged_fraction,median_steps_to_eps,q25_steps,"
    "q75_steps,iqr_steps,median_time_to_eps,certified_fraction,positive_speedup";

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const std::size_t below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  if (std::isinf(values[above]) && fraction > 0.0) return kInf;
  if (std::isinf(values[below])) return kInf;
  return values[below] + fraction * (values[above] - values[below]);
}

std::vector<SummaryRow> summarize(const std::vector<RunRecord>& records) {
  std::map<std::pair<GroupKey, std::string>, std::vector<const RunRecord*>> groups;
  for (const RunRecord& r : records) {
    groups[{GroupKey{r.run.dataset.name(), r.run.method.name(), std::string(to_string(r.run.activation)), r.run.depth,
                     r.run.width},
            std::string(to_string(r.run.init))}]
        .push_back(&r);
  }
  std::vector<SummaryRow> rows;
  std::map<GroupKey, double> positive_median;
  for (const auto& [key, members] : groups) {
    SummaryRow row;
    std::tie(row.dataset, row.method, row.activation, row.depth, row.width) = key.first;
    row.init = key.second;
    row.runs = static_cast<long>(members.size());
    std::vector<double> steps, times;
    for (const RunRecord* r : members) {
      row.converged += r->reached ? 1 : 0;
      row.certified += r->certified == 1 ? 1 : 0;
      steps.push_back(r->reached ? static_cast<double>(r->steps_to_eps) : kInf);
      times.push_back(r->reached ? r->time_to_eps : kInf);
    }
    row.median_steps = quantile(steps, 0.5);
    row.q25_steps = quantile(steps, 0.25);
    row.q75_steps = quantile(steps, 0.75);
    row.median_time = quantile(times, 0.5);
    if (row.init == "positive") positive_median[key.first] = row.median_steps;
    rows.push_back(row);
  }
  for (SummaryRow& row : rows) {
    const GroupKey key{row.dataset, row.method, row.activation, row.depth, row.width};
    const auto positive = positive_median.find(key);
    if (row.init != "positive" && positive != positive_median.end()) {
      const double p = positive->second;
      row.positive_speedup = std::isinf(p)
                                 ? (std::isinf(row.median_steps) ? std::numeric_limits<double>::quiet_NaN() : 0.0)
                                 : row.median_steps / p;
    }
  }
  return rows;
}

void write_summary(const std::string& path, const std::vector<SummaryRow>& rows) {
  write_file_atomically("summary", path, [&](std::ostream& out) {
    out << kSummaryHeader << "\n";
    for (const SummaryRow& r : rows) {
      out << csv_field(r.dataset) << "," << r.method << "," << r.activation << "," << r.depth << "," << r.width << ","
          << r.init << "," << r.runs << "," << r.converged << ","
          << number(static_cast<double>(r.converged) / static_cast<double>(r.runs)) << "," << number(r.median_steps)
          << "," << number(r.q25_steps) << "," << number(r.q75_steps) << "," << number(r.q75_steps - r.q25_steps) << ","
          << number(r.median_time) << "," << number(static_cast<double>(r.certified) / static_cast<double>(r.runs))
          << "," << number(r.positive_speedup) << "\n";
    }
  });
}

std::string format_summary(const std::vector<SummaryRow>& rows) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "  %-16s %6s %-16s %5s %10s %14s %10s %9s\n", "method", "width", "init", "runs",
                "converged", "median steps", "IQR", "speedup");
  out << line;
  for (const SummaryRow& r : rows) {
    const auto text = [](double x, const char* fmt) {
      if (std::isnan(x)) return std::string("-");
      if (std::isinf(x)) return std::string("inf");
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, fmt, x);
      return std::string(buffer);
    };
    std::snprintf(line, sizeof line, "  %-16s %6ld %-16s %5ld %9.0f%% %14s %10s %9s\n", r.method.c_str(), r.width,
                  r.init.c_str(), r.runs, 100.0 * static_cast<double>(r.converged) / static_cast<double>(r.runs),
                  text(r.median_steps, "%.0f").c_str(), text(r.q75_steps - r.q25_steps, "%.0f").c_str(),
                  text(r.positive_speedup, "%.2fx").c_str());
    out << line;
  }
  out << "  (speedup: median steps of the scheme / median steps of positive, same method and width)\n";
  return out.str();
}

}  // namespace gradflow

#include <gradflow/flow/callbacks.hpp>

#include <gradflow/core/text.hpp>

#include <algorithm>
#include <cmath>

namespace gradflow {

double nan_min(double a, double b) { return std::isnan(a) ? b : (std::isnan(b) ? a : std::min(a, b)); }
double nan_max(double a, double b) { return std::isnan(a) ? b : (std::isnan(b) ? a : std::max(a, b)); }

ProgressLine::ProgressLine(RunKind kind, double total, std::FILE* out)
    : kind_(kind), total_(total), out_(out), last_(std::chrono::steady_clock::now()) {}

bool ProgressLine::operator()(const Row& row, ConstVectorView /*theta*/) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return false;
  last_ = now;
  if (kind_ == RunKind::flow) {
    std::fprintf(out_, "\r  t = %.6g of %.6g (%5.1f%%), loss %.3e   ", row.t, total_, 100.0 * row.t / total_, row.loss);
  } else {
    std::fprintf(out_, "\r  iteration %ld of %.0f, loss %.3e   ", row.iter, total_, row.loss);
  }
  std::fflush(out_);
  shown_ = true;
  return false;
}

void ProgressLine::finish() const {
  if (shown_) std::fprintf(out_, "\r%80s\r", "");
}

CsvRowWriter::CsvRowWriter(std::ostream& out, RunKind kind, const Observables& observe, std::string extra_header,
                           Extra extra)
    : out_(out), columns_(row_columns(row_output(kind), observe)), extra_(std::move(extra)) {
  out_ << row_csv_header(columns_) << extra_header << '\n';
}

void CsvRowWriter::operator()(const Row& row, ConstVectorView theta) {
  ++rows_;
  out_ << row_csv_line(row, columns_, "nan");
  if (extra_) out_ << extra_(row, theta);
  out_ << '\n';
}

CsvStateWriter::CsvStateWriter(std::ostream& out, RunKind kind, Eigen::Index p) : out_(out), kind_(kind) {
  out_ << (kind == RunKind::flow ? "t" : "iter");
  for (Eigen::Index i = 1; i <= p; ++i) out_ << ",theta_" << i;
  out_ << '\n';
}

void CsvStateWriter::operator()(const Row& row, ConstVectorView theta) {
  std::string line = full_precision(kind_ == RunKind::flow ? row.t : static_cast<double>(row.iter));
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    line += ',';
    line += full_precision(theta[i]);
  }
  line += '\n';
  out_ << line;
}

void PathExtremes::operator()(const Row& row, ConstVectorView /*theta*/) {
  ++rows_;
  const Observed& o = row.observed;
  ntk_min_ = nan_min(ntk_min_, o.ntk_min);
  ntk_max_ = nan_max(ntk_max_, o.ntk_max);
  sharpness_max_ = nan_max(sharpness_max_, o.sharpness);
  if (!std::isnan(o.ntk_min) && !std::isnan(row.pl_ratio)) margin_ = nan_min(margin_, row.pl_ratio - o.ntk_min);
}

RowSink all_of(std::vector<RowSink> sinks) {
  sinks.erase(std::remove_if(sinks.begin(), sinks.end(), [](const RowSink& s) { return !s; }), sinks.end());
  return [sinks = std::move(sinks)](const Row& row, ConstVectorView theta) {
    for (const RowSink& sink : sinks) sink(row, theta);
  };
}

}  // namespace gradflow

#include <gradflow/flow/row_fields.hpp>

#include <cmath>
#include <cstdio>
#include <limits>

namespace gradflow {
namespace {

constexpr unsigned kAll = kFlowRows | kDescentRows | kCurveRows;

bool ntk_asked(const Observables& o) { return o.ntk; }
bool condition_asked(const Observables& o) { return o.condition; }
bool sharpness_asked(const Observables& o) { return o.sharpness; }
bool sharpness_min_asked(const Observables& o) { return o.sharpness_min; }

}  // namespace

Row RowMaker::make(double t, const ConstVectorView& theta, double loss, double grad_norm) const {
  Row row;
  row.t = t;
  row.loss = loss;
  row.grad_norm = grad_norm;
  row.dist_from_init = (theta - theta0_).norm();
  row.pl_ratio = pl_ratio(loss, grad_norm * grad_norm);
  return row;
}

double RowMaker::pl_ratio(double loss, double grad_norm_squared) const {
  const double excess = min_value_ ? loss - *min_value_ : std::numeric_limits<double>::quiet_NaN();
  return excess > 0.0 ? grad_norm_squared / (2.0 * excess) : std::numeric_limits<double>::quiet_NaN();
}

const std::vector<RowField>& row_fields() {
  // clang-format off
  static const std::vector<RowField> fields{
      {"iter", "steps", "descent: the iteration k; a sweep curve: the iteration or accepted flow step",
       kDescentRows | kCurveRows, true, nullptr,
       [](const Row& r) { return static_cast<double>(r.iter); }, [](Row& r, double x) { r.iter = std::lround(x); }},
      {"t", "time", "flow time; descent: the sum of the steps so far (the time axis shared with the flow)",
       kAll, false, nullptr, [](const Row& r) { return r.t; }, [](Row& r, double x) { r.t = x; }},
      {"loss", "loss", "L(theta)",
       kAll, false, nullptr, [](const Row& r) { return r.loss; }, [](Row& r, double x) { r.loss = x; }},
      {"grad_norm", "loss/length", "||grad L(theta)||",
       kAll, false, nullptr, [](const Row& r) { return r.grad_norm; }, [](Row& r, double x) { r.grad_norm = x; }},
      {"dist_from_init", "length", "||theta - theta0||",
       kAll, false, nullptr, [](const Row& r) { return r.dist_from_init; },
       [](Row& r, double x) { r.dist_from_init = x; }},
      {"step_size", "time", "descent: eta_{k-1}, the step that produced the iterate (0 at k = 0)",
       kDescentRows, false, nullptr, [](const Row& r) { return r.step_size; },
       [](Row& r, double x) { r.step_size = x; }},
      {"pl_ratio", "1/time", "||grad L||^2 / (2 (L - L_min)); nan where L = L_min or L_min is unknown",
       kAll, false, nullptr, [](const Row& r) { return r.pl_ratio; }, [](Row& r, double x) { r.pl_ratio = x; }},
      {"bound", "loss",
       "the rate bound: the flow's L_min + (L0 - L_min) exp(-2 mu t), descent's L_min + q^k (L0 - L_min), a sweep "
       "curve's certified L0 exp(-2 mu t); nan without one",
       kAll, false, nullptr, [](const Row& r) { return r.bound; }, [](Row& r, double x) { r.bound = x; }},
      {"ntk_min", "1/time", "--observe ntk: the smallest eigenvalue of J J^T",
       kAll, false, ntk_asked, [](const Row& r) { return r.observed.ntk_min; },
       [](Row& r, double x) { r.observed.ntk_min = x; }},
      {"ntk_max", "1/time", "--observe ntk: the largest eigenvalue of J J^T",
       kAll, false, ntk_asked, [](const Row& r) { return r.observed.ntk_max; },
       [](Row& r, double x) { r.observed.ntk_max = x; }},
      {"condition", "1", "--observe condition: ntk_max / ntk_min",
       kAll, false, condition_asked, [](const Row& r) { return r.observed.condition; },
       [](Row& r, double x) { r.observed.condition = x; }},
      {"sharpness", "1/time", "--observe sharpness: the largest Hessian eigenvalue (a Lanczos estimate)",
       kAll, false, sharpness_asked, [](const Row& r) { return r.observed.sharpness; },
       [](Row& r, double x) { r.observed.sharpness = x; }},
      {"sharpness_min", "1/time", "--observe sharpness2: the smallest Hessian eigenvalue (a Lanczos estimate)",
       kAll, false, sharpness_min_asked, [](const Row& r) { return r.observed.sharpness_min; },
       [](Row& r, double x) { r.observed.sharpness_min = x; }},
  };
  // clang-format on
  return fields;
}

const RowField* find_row_field(std::string_view name) {
  for (const RowField& field : row_fields())
    if (field.name == name) return &field;
  return nullptr;
}

std::vector<const RowField*> row_columns(RowOutput output, const Observables& observe) {
  std::vector<const RowField*> columns;
  for (const RowField& field : row_fields()) {
    if ((field.outputs & output) == 0) continue;
    if (field.asked != nullptr && !field.asked(observe)) continue;
    columns.push_back(&field);
  }
  return columns;
}

std::string row_csv_header(const std::vector<const RowField*>& columns) {
  std::string header;
  for (const RowField* field : columns) {
    if (!header.empty()) header += ',';
    header += field->name;
  }
  return header;
}

std::string row_csv_line(const Row& row, const std::vector<const RowField*>& columns, std::string_view nan_text) {
  std::string line;
  char buffer[32];
  for (const RowField* field : columns) {
    if (!line.empty() || field != columns.front()) line += ',';
    const double value = field->get(row);
    if (field->integer) {
      std::snprintf(buffer, sizeof buffer, "%ld", std::lround(value));
      line += buffer;
    } else if (std::isnan(value)) {
      line += nan_text;
    } else {
      std::snprintf(buffer, sizeof buffer, "%.17g", value);
      line += buffer;
    }
  }
  return line;
}

}  // namespace gradflow

#include <gradflow/experiments/sweep_summary.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <sstream>
#include <tuple>

namespace gradflow {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// dataset, method, activation, depth, width, the conditioning power (full precision; "" off the path)
using GroupKey = std::tuple<std::string, std::string, std::string, long, long, std::string>;

std::string power_text(double a) { return std::isnan(a) ? std::string() : full_precision(a); }

GroupKey group_of(const SummaryRow& r) {
  return {r.dataset, r.method, r.activation, r.depth, r.width, power_text(r.condition_power)};
}

// The work of one group's runs, +inf for those that did not converge.
struct Work {
  std::vector<double> steps, grad_evals, loss_evals, hvp_evals, seconds, times, times_beta0, conditions;
  std::vector<double> test_loss, test_error;  // held-out (the runs that have them)
};

// Equal to a relative tolerance: both NaN, both the same infinity, or within it.
bool same_value(double a, double b, double relative) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b));
}

// Every run the same: the work counts within a relative kIdenticalWork (a few steps in thousands: where
// the loss crosses the target can move by a step), the time to the target x beta0 (comparable across
// output scales) and the held-out loss within kIdenticalValue, and, for runs that did not converge, the
// final loss over L0 within kIdenticalValue (sweep_summary.hpp).
bool identical_runs(const std::vector<const RunRecord*>& runs) {
  const RunRecord& f = *runs.front();
  const auto count = [](long a, long b) {
    return same_value(static_cast<double>(a), static_cast<double>(b), kIdenticalWork);
  };
  for (const RunRecord* r : runs) {
    if (r->reached != f.reached || !count(r->steps, f.steps) || !count(r->grad_evals, f.grad_evals) ||
        !count(r->loss_evals, f.loss_evals) || !count(r->hvp_evals, f.hvp_evals) ||
        (!r->reached && !same_value(r->final_loss / r->loss0, f.final_loss / f.loss0, kIdenticalValue)) ||
        !same_value(r->time_beta0, f.time_beta0, kIdenticalValue) ||
        !same_value(r->held_out.test_loss, f.held_out.test_loss, kIdenticalValue))
      return false;
  }
  return true;
}

// The sample the bootstrap draws from: one value when the runs are one sample.
std::vector<double> as_sample(const std::vector<double>& values, bool one) {
  if (!one || values.empty()) return values;
  return {values.front()};
}

Quartiles quartiles(std::vector<double> values) {
  Quartiles q;
  q.median = quantile(values, 0.5);
  q.q25 = quantile(values, 0.25);
  q.q75 = quantile(values, 0.75);
  return q;
}

}  // namespace

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const std::size_t below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  // The order statistics exactly: a quantile that falls on one (fraction 0) is that value, finite or not
  // (0 x inf would be NaN); between a finite value and +inf it is +inf; below -inf, -inf.
  if (fraction == 0.0 || values[above] == values[below]) return values[below];
  if (std::isinf(values[above])) return values[above];
  if (std::isinf(values[below])) return values[below];
  return values[below] + fraction * (values[above] - values[below]);
}

std::size_t choose_best_c(const std::vector<StepFactorResult>& grid, double min_converged, std::string* choice) {
  std::size_t best = grid.size();
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (grid[i].converged_fraction + 1e-12 < min_converged) continue;
    // A tie in median steps goes to the smaller c (the more cautious step): the same choice whatever
    // the order of the grid.
    if (best == grid.size() || grid[i].median_steps < grid[best].median_steps ||
        (grid[i].median_steps == grid[best].median_steps && grid[i].c < grid[best].c))
      best = i;
  }
  if (best != grid.size()) {
    if (choice) *choice = "lowest median steps with >= " + format_number("%.0f", 100.0 * min_converged) + "% converged";
    return best;
  }
  double most = 0.0;
  for (const StepFactorResult& entry : grid) most = std::max(most, entry.converged_fraction);
  if (!grid.empty() && most == 0.0) {
    // No run converged at any c: the c that got furthest, by median final loss.
    const auto loss = [&](std::size_t i) {
      return std::isnan(grid[i].median_final_loss) ? kInf : grid[i].median_final_loss;
    };
    best = 0;
    for (std::size_t i = 1; i < grid.size(); ++i) {
      if (loss(i) < loss(best) || (loss(i) == loss(best) && grid[i].c < grid[best].c)) best = i;
    }
    if (choice) *choice = "no c converged: the lowest median final loss";
    return best;
  }
  best = 0;
  for (std::size_t i = 1; i < grid.size(); ++i) {
    const bool more = grid[i].converged_fraction > grid[best].converged_fraction;
    const bool as_many = grid[i].converged_fraction == grid[best].converged_fraction;
    if (more || (as_many && (grid[i].median_steps < grid[best].median_steps ||
                             (grid[i].median_steps == grid[best].median_steps && grid[i].c < grid[best].c))))
      best = i;
  }
  if (choice)
    *choice = "no c reached " + format_number("%.0f", 100.0 * min_converged) + "% converged: the most converged";
  return best;
}

std::vector<SummaryRow> summarize(const std::vector<RunRecord>& records, const SummaryOptions& options) {
  // Groups by coordinates, scheme and step factor c (0 unless tuned).
  using Member = std::tuple<GroupKey, std::string, double, std::string>;  // + scheme, c, scale
  std::map<Member, std::vector<const RunRecord*>> groups;
  for (const RunRecord& r : records) {
    groups[{GroupKey{r.run.dataset.name(), r.run.method.name(), std::string(to_string(r.run.activation)), r.run.depth,
                     r.run.width, r.run.power ? full_precision(*r.run.power) : std::string()},
            std::string(to_string(r.run.init)), r.run.lr_c, r.run.scale ? r.run.scale->name() : std::string()}]
        .push_back(&r);
  }
  // tuned-fixed: keep each scheme's best c.
  using SchemeKey = std::tuple<GroupKey, std::string, std::string>;  // scheme and scale
  std::map<SchemeKey, std::vector<std::pair<double, StepFactorResult>>> tuned;
  for (const auto& [member, runs] : groups) {
    const double c = std::get<2>(member);
    if (c <= 0.0) continue;
    std::vector<double> steps, final_losses;
    long converged = 0;
    for (const RunRecord* r : runs) {
      converged += r->reached ? 1 : 0;
      steps.push_back(r->reached ? static_cast<double>(r->steps_to_eps) : kInf);
      // A diverged run's loss may be NaN or +inf: it counts as +inf.
      final_losses.push_back(std::isnan(r->final_loss) ? kInf : r->final_loss);
    }
    tuned[{std::get<0>(member), std::get<1>(member), std::get<3>(member)}].push_back(
        {c, StepFactorResult{c, static_cast<double>(converged) / static_cast<double>(runs.size()), quantile(steps, 0.5),
                             quantile(final_losses, 0.5)}});
  }
  std::map<SchemeKey, std::pair<double, std::string>> best_c;
  for (const auto& [key, grid] : tuned) {
    std::vector<StepFactorResult> results;
    for (const auto& entry : grid) results.push_back(entry.second);
    std::string choice;
    const std::size_t best = choose_best_c(results, options.min_converged, &choice);
    best_c[key] = {results[best].c, choice};
  }

  std::vector<SummaryRow> rows;
  std::vector<Work> works;
  std::map<GroupKey, std::size_t> positive_row;
  for (const auto& [member, members] : groups) {
    const auto& [key, init, c, scale] = member;
    std::string choice;
    if (c > 0.0) {
      const auto& chosen = best_c.at({key, init, scale});
      if (chosen.first != c) continue;
      choice = chosen.second;
    }
    SummaryRow row;
    std::string power;
    std::tie(row.dataset, row.method, row.activation, row.depth, row.width, power) = key;
    if (members.front()->run.power) row.condition_power = *members.front()->run.power;
    row.scale = scale;
    row.verdict_on = options.verdict_on;
    row.init = init;
    row.lr_c = c;
    row.c_choice = choice;
    row.runs = static_cast<long>(members.size());
    row.flow = !members.front()->run.method.is_descent();
    Work w;
    for (const RunRecord* r : members) {
      row.converged += r->reached ? 1 : 0;
      row.certified += r->certified == 1 ? 1 : 0;
      const auto work = [&](double x) { return r->reached ? x : kInf; };
      w.steps.push_back(work(static_cast<double>(r->steps_to_eps)));
      w.grad_evals.push_back(work(static_cast<double>(r->grad_evals)));
      w.loss_evals.push_back(work(static_cast<double>(r->loss_evals)));
      w.hvp_evals.push_back(work(static_cast<double>(r->hvp_evals)));
      w.seconds.push_back(work(r->train_seconds));
      w.times.push_back(work(r->time_to_eps));
      w.times_beta0.push_back(work(r->time_beta0));
      w.conditions.push_back(r->input_condition);
      if (r->held_out.points > 0) {
        w.test_loss.push_back(std::isnan(r->held_out.test_loss) ? kInf : r->held_out.test_loss);
        if (!std::isnan(r->held_out.test_accuracy)) w.test_error.push_back(1.0 - r->held_out.test_accuracy);
      }
      if (row.flow && r->reached && !std::isnan(r->time_change))
        row.time_accuracy =
            std::isnan(row.time_accuracy) ? r->time_change : std::max(row.time_accuracy, r->time_change);
    }
    row.steps = quartiles(w.steps);
    row.grad_evals = quartiles(w.grad_evals);
    row.loss_evals = quartiles(w.loss_evals);
    row.hvp_evals = quartiles(w.hvp_evals);
    row.seconds = quartiles(w.seconds);
    row.median_time = quartiles(w.times).median;
    row.median_time_beta0 = quartiles(w.times_beta0).median;
    row.input_condition = quartiles(w.conditions).median;
    // The observables' medians over the runs that observed them.
    const auto observed_median = [&](double TrialObserved::*field) {
      std::vector<double> values;
      for (const RunRecord* r : members)
        if (!std::isnan(r->observed.*field)) values.push_back(r->observed.*field);
      return quantile(values, 0.5);
    };
    row.median_ntk_min = observed_median(&TrialObserved::ntk_min);
    row.median_sharpness0 = observed_median(&TrialObserved::sharpness0);
    row.median_sharpness_max = observed_median(&TrialObserved::sharpness_max);
    row.median_eta_sharpness_max = observed_median(&TrialObserved::eta_sharpness_max);
    const auto median_of = [&](auto field) {
      std::vector<double> values;
      for (const RunRecord* r : members)
        if (!std::isnan(field(*r))) values.push_back(field(*r));
      return quantile(values, 0.5);
    };
    row.output_scale = median_of([](const RunRecord& r) { return r.output_scale; });
    row.median_interpolant_distance = median_of([](const RunRecord& r) { return r.held_out.interpolant_distance; });
    row.median_linear_test_loss = median_of([](const RunRecord& r) { return r.held_out.linear_test_loss; });
    row.median_linear_test_accuracy = median_of([](const RunRecord& r) { return r.held_out.linear_test_accuracy; });
    row.median_travel_fraction = median_of([](const RunRecord& r) { return r.travel_fraction; });
    row.median_ntk_drift = median_of([](const RunRecord& r) { return r.ntk_drift; });
    row.median_ntk_condition = median_of([](const RunRecord& r) { return r.ntk_condition; });
    const bool one_sample = identical_runs(members);
    row.independent_samples = one_sample ? 1 : row.runs;
    if (one_sample) {
      for (auto* v : {&w.steps, &w.grad_evals, &w.loss_evals, &w.hvp_evals, &w.seconds, &w.times_beta0, &w.test_loss,
                      &w.test_error})
        *v = as_sample(*v, true);
    }
    // The medians of the held-out error with their intervals (a ratio against 1: the median's bootstrap).
    const std::uint64_t held_seed = derive_seed(
        options.seed, fnv1a(row.dataset + "|held-out|" + row.init + "|" + std::to_string(row.width) + "|" + row.scale));
    if (!w.test_loss.empty()) {
      row.test_loss =
          bootstrap_median_ratio(w.test_loss, {1.0}, derive_seed(held_seed, 1), options.resamples, options.level);
      row.test_loss.p_value = kNaN;
    }
    if (!w.test_error.empty()) {
      std::vector<double> accuracy;
      for (const double e : w.test_error) accuracy.push_back(1.0 - e);
      row.test_accuracy =
          bootstrap_median_ratio(accuracy, {1.0}, derive_seed(held_seed, 2), options.resamples, options.level);
      row.test_accuracy.p_value = kNaN;
    }
    if (row.init == "positive") {
      // The reference: off the scale path, else its auto entry, else its largest scale.
      const auto found = positive_row.find(key);
      const auto rank = [](const SummaryRow& x) {
        return std::make_pair(x.scale.empty()     ? 2
                              : x.scale == "auto" ? 1
                                                  : 0,
                              std::isnan(x.output_scale) ? 0.0 : x.output_scale);
      };
      if (found == positive_row.end() || rank(row) > rank(rows[found->second])) positive_row[key] = rows.size();
    }
    rows.push_back(row);
    works.push_back(std::move(w));
  }
  for (const auto& [key, index] : positive_row) rows[index].reference = true;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SummaryRow& row = rows[i];
    const GroupKey key = group_of(row);
    const auto positive = positive_row.find(key);
    if (row.init == "positive" || positive == positive_row.end()) continue;
    const Work& p = works[positive->second];
    const Work& w = works[i];
    // A file data set enters the seed by its file name, not its folder (as the initial seeds do): the
    // intervals must not depend on where the repository lives.
    const std::string data_label = row.dataset.rfind("file:", 0) == 0
                                       ? "file:" + std::filesystem::path(row.dataset.substr(5)).filename().string()
                                       : row.dataset;
    std::ostringstream name;
    name << data_label << "|" << row.method << "|" << row.activation << "|" << row.depth << "|" << row.width << "|"
         << row.init;
    // Off the conditioning path the seeds are those of earlier versions (the same intervals).
    if (!std::get<5>(key).empty()) name << "|power=" << std::get<5>(key);
    const std::uint64_t base = derive_seed(options.seed, fnv1a(name.str()));
    row.speedup_steps =
        bootstrap_median_ratio(w.steps, p.steps, derive_seed(base, 1), options.resamples, options.level);
    row.speedup_grad_evals =
        bootstrap_median_ratio(w.grad_evals, p.grad_evals, derive_seed(base, 2), options.resamples, options.level);
    row.speedup_loss_evals =
        bootstrap_median_ratio(w.loss_evals, p.loss_evals, derive_seed(base, 3), options.resamples, options.level);
    row.speedup_wall =
        bootstrap_median_ratio(w.seconds, p.seconds, derive_seed(base, 4), options.resamples, options.level);
    if (row.flow) {
      row.speedup_time_beta0 =
          bootstrap_median_ratio(w.times_beta0, p.times_beta0, derive_seed(base, 5), options.resamples, options.level);
    }
    if (!w.test_loss.empty() && !p.test_loss.empty()) {
      row.test_loss_ratio =
          bootstrap_median_ratio(w.test_loss, p.test_loss, derive_seed(base, 6), options.resamples, options.level);
    }
    if (!w.test_error.empty() && !p.test_error.empty()) {
      row.test_error_ratio =
          bootstrap_median_ratio(w.test_error, p.test_error, derive_seed(base, 7), options.resamples, options.level);
    }
  }
  // Holm over the schemes of each group.
  std::map<GroupKey, std::vector<std::size_t>> families;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& row = rows[i];
    if (row.init != "positive") families[group_of(row)].push_back(i);
  }
  for (const auto& [key, members] : families) {
    std::vector<double> p;
    for (const std::size_t i : members) p.push_back(rows[i].verdict_ratio().p_value);
    const std::vector<double> adjusted = holm_adjust(p);
    for (std::size_t k = 0; k < members.size(); ++k) rows[members[k]].holm_p = adjusted[k];
  }
  return rows;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  // Ties keep the input's order (stable), which does not change the adjusted values.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(p.size(), std::numeric_limits<double>::quiet_NaN());
  const double m = static_cast<double>(order.size());
  double running = 0.0;
  for (std::size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * p[order[j]]));
    adjusted[order[j]] = running;
  }
  return adjusted;
}

NamedValues summary_values(const SummaryRow& r, const std::string& tolerance) {
  NamedValues v;
  const auto add = [&](std::string name, Value value) { v.push_back({std::move(name), std::move(value)}); };
  const auto real = [](double x) { return std::isnan(x) ? Value{} : Value{x}; };
  const auto fraction = [&](long part) {
    return r.runs > 0 ? Value{static_cast<double>(part) / static_cast<double>(r.runs)} : Value{};
  };
  const auto quartiles = [&](const std::string& median_name, const std::string& name, const Quartiles& q) {
    add(median_name, real(q.median));
    add("q25_" + name, real(q.q25));
    add("q75_" + name, real(q.q75));
  };
  const auto ratio = [&](const std::string& name, const RatioInterval& x) {
    add(name, real(x.estimate));
    add(name + "_low", real(x.low));
    add(name + "_high", real(x.high));
  };
  add("dataset", r.dataset);
  add("method", r.method);
  add("activation", r.activation);
  add("depth", static_cast<long long>(r.depth));
  add("width", static_cast<long long>(r.width));
  add("init", r.init);
  add("lr_c", r.lr_c > 0.0 ? Value{r.lr_c} : Value{});
  add("c_choice", r.c_choice);
  add("runs", static_cast<long long>(r.runs));
  add("converged", static_cast<long long>(r.converged));
  add("converged_fraction", fraction(r.converged));
  add("certified_fraction", fraction(r.certified));
  add("input_condition", real(r.input_condition));
  add("tolerance", tolerance);
  quartiles("median_steps_to_eps", "steps", r.steps);
  add("iqr_steps", real(r.steps.q75 - r.steps.q25));
  quartiles("median_grad_evals", "grad_evals", r.grad_evals);
  quartiles("median_loss_evals", "loss_evals", r.loss_evals);
  quartiles("median_hvp_evals", "hvp_evals", r.hvp_evals);
  quartiles("median_train_seconds", "train_seconds", r.seconds);
  add("median_time_to_eps", real(r.median_time));
  add("median_time_beta0", real(r.median_time_beta0));
  ratio("speedup_steps", r.speedup_steps);
  ratio("speedup_grad_evals", r.speedup_grad_evals);
  add("speedup_grad_evals_p", real(r.speedup_grad_evals.p_value));
  ratio("speedup_time_beta0", r.speedup_time_beta0);
  add("speedup_time_beta0_p", real(r.speedup_time_beta0.p_value));
  add("verdict_on", r.init == "positive"                    ? Value{}
                    : r.verdict_on == VerdictOn::test_loss  ? Value{std::string("test_loss")}
                    : r.verdict_on == VerdictOn::test_error ? Value{std::string("test_error")}
                                                            : Value{std::string(r.flow ? "time_beta0" : "grad_evals")});
  add("verdict_p_holm", real(r.holm_p));
  add("time_accuracy", real(r.time_accuracy));
  ratio("speedup_loss_evals", r.speedup_loss_evals);
  ratio("speedup_wall", r.speedup_wall);
  add("median_ntk_min", real(r.median_ntk_min));
  add("median_sharpness0", real(r.median_sharpness0));
  add("median_sharpness_max", real(r.median_sharpness_max));
  add("median_eta_sharpness_max", real(r.median_eta_sharpness_max));
  add("scale", r.scale);
  add("condition_power", real(r.condition_power));
  add("median_output_scale", real(r.output_scale));
  add("reference", r.init == "positive" ? Value{r.reference} : Value{});
  add("independent_samples", static_cast<long long>(r.independent_samples));
  const auto interval = [&](const std::string& name, const RatioInterval& x) {
    add("median_" + name, real(x.estimate));
    add("median_" + name + "_low", real(x.low));
    add("median_" + name + "_high", real(x.high));
  };
  interval("test_loss", r.test_loss);
  interval("test_accuracy", r.test_accuracy);
  add("median_interpolant_distance", real(r.median_interpolant_distance));
  add("median_linear_test_loss", real(r.median_linear_test_loss));
  add("median_linear_test_accuracy", real(r.median_linear_test_accuracy));
  ratio("test_loss_ratio", r.test_loss_ratio);
  ratio("test_error_ratio", r.test_error_ratio);
  add("median_travel_fraction", real(r.median_travel_fraction));
  add("median_ntk_drift", real(r.median_ntk_drift));
  add("median_ntk_condition", real(r.median_ntk_condition));
  return v;
}

std::string summary_csv_header() {
  std::string header;
  for (const NamedValue& value : summary_values(SummaryRow{}, "")) header += "," + value.name;
  return header.substr(1);
}

namespace {

std::string text(double x, const char* fmt) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return "inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, x);
  return buffer;
}

// The protocol's name: tuned-fixed rows are the fixed step at the scheme's best c.
std::string protocol_name(const SummaryRow& r) { return r.lr_c > 0.0 ? "tuned-fixed" : r.method; }

std::string interval_text(const RatioInterval& x) {
  if (std::isnan(x.estimate)) return "-";
  return text(x.estimate, "%.2f") + " [" + text(x.low, "%.2f") + ", " + text(x.high, "%.2f") + "]";
}

}  // namespace

std::string format_summary(const std::vector<SummaryRow>& rows, const std::string& tolerance) {
  std::ostringstream out;
  std::string last_dataset;
  char line[640];
  for (const SummaryRow& r : rows) {
    const std::string where =
        r.dataset +
        (std::isnan(r.condition_power) ? std::string() : " at condition power " + full_precision(r.condition_power));
    if (where != last_dataset) {
      out << "data " << where << ": input condition number " << text(r.input_condition, "%.4g") << "; converged at "
          << tolerance << "\n";
      std::snprintf(line, sizeof line, "  %-12s %5s %-15s %5s %4s %5s %5s %9s %9s %9s %20s %20s %20s %20s\n",
                    "protocol", "width", "init", "c", "runs", "conv", "cert", "med steps", "med grads", "med loss",
                    "speedup_steps", "speedup_grad_evals", "speedup_loss_evals", "speedup_wall");
      out << line;
      last_dataset = where;
    }
    const std::string init = r.scale.empty() ? r.init : r.init + "@" + r.scale;
    std::snprintf(line, sizeof line, "  %-12s %5ld %-15s %5s %4ld %4.0f%% %4.0f%% %9s %9s %9s %20s %20s %20s %20s\n",
                  protocol_name(r).c_str(), r.width, init.c_str(), r.lr_c > 0.0 ? text(r.lr_c, "%.3g").c_str() : "-",
                  r.runs, 100.0 * static_cast<double>(r.converged) / static_cast<double>(r.runs),
                  100.0 * static_cast<double>(r.certified) / static_cast<double>(r.runs),
                  text(r.steps.median, "%.0f").c_str(), text(r.grad_evals.median, "%.0f").c_str(),
                  text(r.loss_evals.median, "%.0f").c_str(), interval_text(r.speedup_steps).c_str(),
                  interval_text(r.speedup_grad_evals).c_str(), interval_text(r.speedup_loss_evals).c_str(),
                  interval_text(r.speedup_wall).c_str());
    out << line;
  }
  bool observed = false;
  for (const SummaryRow& r : rows)
    observed |=
        !std::isnan(r.median_ntk_min) || !std::isnan(r.median_sharpness_max) || !std::isnan(r.median_ntk_condition);
  if (observed) {
    out << "  observed along the runs (--observe, the paths; medians over the runs):\n";
    std::snprintf(line, sizeof line, "  %-12s %5s %-15s %5s %5s %12s %12s %12s %12s %12s %12s\n", "protocol", "width",
                  "init", "c", "a", "ntk_min", "ntk_cond", "cond(X)^2", "sharpness0", "sharpness_max", "eta x sharp");
    out << line;
    for (const SummaryRow& r : rows) {
      std::snprintf(line, sizeof line, "  %-12s %5ld %-15s %5s %5s %12s %12s %12s %12s %12s %12s\n",
                    protocol_name(r).c_str(), r.width, (r.scale.empty() ? r.init : r.init + "@" + r.scale).c_str(),
                    r.lr_c > 0.0 ? text(r.lr_c, "%.3g").c_str() : "-", text(r.condition_power, "%.3g").c_str(),
                    text(r.median_ntk_min, "%.4g").c_str(), text(r.median_ntk_condition, "%.4g").c_str(),
                    text(r.input_condition * r.input_condition, "%.4g").c_str(),
                    text(r.median_sharpness0, "%.4g").c_str(), text(r.median_sharpness_max, "%.4g").c_str(),
                    text(r.median_eta_sharpness_max, "%.3g").c_str());
      out << line;
    }
    out << "  (ntk_min: the smallest eigenvalue of J J^T along the run's recorded rows, under its PL ratio;\n"
           "   ntk_cond: its lambda_max / lambda_min at theta0, equal to cond(X)^2 for positive at W_1 = 0 with\n"
           "   sigma(0) = 0 (docs/theory.md §6.5); sharpness: the largest Hessian eigenvalue (Lanczos estimates);\n"
           "   eta x sharp > 2: descent's step is past the flow's stability edge)\n";
  }
  bool held_out = false;
  for (const SummaryRow& r : rows) held_out |= !std::isnan(r.test_loss.estimate);
  if (held_out) {
    out << "  held-out points (medians over the runs, 95% bootstrap intervals):\n";
    std::snprintf(line, sizeof line, "  %-12s %5s %-15s %-9s %5s %26s %22s %12s %12s %12s\n", "protocol", "width",
                  "init", "scale", "a", "test_loss", "test_accuracy", "to linear", "linear loss", "linear acc");
    out << line;
    const auto with_interval = [](const RatioInterval& x, const char* fmt) {
      if (std::isnan(x.estimate)) return std::string("-");
      return text(x.estimate, fmt) + " [" + text(x.low, fmt) + ", " + text(x.high, fmt) + "]";
    };
    for (const SummaryRow& r : rows) {
      std::snprintf(line, sizeof line, "  %-12s %5ld %-15s %-9s %5s %26s %22s %12s %12s %12s\n",
                    protocol_name(r).c_str(), r.width, r.init.c_str(), r.scale.empty() ? "-" : r.scale.c_str(),
                    text(r.condition_power, "%.3g").c_str(), with_interval(r.test_loss, "%.3g").c_str(),
                    with_interval(r.test_accuracy, "%.3f").c_str(), text(r.median_interpolant_distance, "%.3g").c_str(),
                    text(r.median_linear_test_loss, "%.3g").c_str(),
                    text(r.median_linear_test_accuracy, "%.3f").c_str());
      out << line;
    }
    out << "  (test_loss: mean squared error on the held-out points; to linear: the root mean square distance of\n"
           "   the network's predictions there to the minimum-norm linear interpolant x^T X^+ y, whose own loss and\n"
           "   accuracy are the last two columns)\n";
  }
  for (const SummaryRow& r : rows) {
    if (r.lr_c > 0.0 && r.c_choice.rfind("lowest median steps", 0) != 0)
      out << "  c of " << r.init << " at width " << r.width << ": " << r.c_choice << "\n";
  }
  out << "  (speedup_X: median X of the scheme / median X of positive, same protocol and width, with its 95%\n"
         "   bootstrap interval; > 1: positive needed less. med grads, med loss: gradient and loss-only evaluations.\n"
         "   cert: the certificate of the method that ran holds at theta0. c: tuned-fixed, the scheme's best\n"
         "   lr = c / beta0)\n";
  return out.str();
}

std::string format_verdict(const std::vector<SummaryRow>& rows, double alpha) {
  std::map<GroupKey, std::vector<const SummaryRow*>> groups;
  for (const SummaryRow& r : rows) groups[group_of(r)].push_back(&r);
  std::ostringstream out;
  for (const auto& [key, members] : groups) {
    const SummaryRow* positive = nullptr;
    std::vector<const SummaryRow*> others;
    // The group's name: the data set, and the conditioning power on that path.
    const std::string where =
        std::get<0>(key) + (std::get<5>(key).empty() ? std::string() : " (condition power " + std::get<5>(key) + ")");
    for (const SummaryRow* r : members) {
      if (r->init == "positive") {
        if (r->reference) positive = r;
      } else {
        others.push_back(r);
      }
    }
    if (!positive || others.empty()) {
      // Said, not silently left out.
      out << "verdict " << where << ", width " << std::get<4>(key) << ": none ("
          << (positive ? "positive is the only scheme" : "positive is not among the schemes")
          << ": the verdict compares positive with each other scheme)\n";
      continue;
    }
    // The classes, each in the order of the speedup (the clearest first).
    std::vector<const SummaryRow*> faster, slower, same, unknown;
    for (const SummaryRow* r : others) {
      const RatioInterval& s = r->verdict_ratio();
      if (std::isnan(s.estimate) || std::isnan(r->holm_p)) {
        unknown.push_back(r);
      } else if (r->holm_p < alpha && s.estimate > 1.0) {
        faster.push_back(r);
      } else if (r->holm_p < alpha && s.estimate < 1.0) {
        slower.push_back(r);
      } else {
        same.push_back(r);
      }
    }
    const auto by_speedup = [](const SummaryRow* a, const SummaryRow* b) {
      return a->verdict_ratio().estimate < b->verdict_ratio().estimate;
    };
    std::sort(slower.begin(), slower.end(), by_speedup);
    std::sort(faster.begin(), faster.end(), [&](auto a, auto b) { return by_speedup(b, a); });
    std::sort(same.begin(), same.end(), by_speedup);
    std::size_t family = 0;  // Holm's m: the schemes with a defined p-value
    for (const SummaryRow* r : others) family += std::isnan(r->holm_p) ? 0 : 1;
    const auto list = [family](const std::vector<const SummaryRow*>& schemes) {
      std::string text;
      for (std::size_t k = 0; k < schemes.size(); ++k) {
        const SummaryRow* r = schemes[k];
        // An adjusted p of 0 means that no bootstrap round fell on the other side of 1: say what it is under.
        const RatioInterval& s = r->verdict_ratio();
        const double rounds = static_cast<double>(s.resamples - s.undefined);
        const std::string p = r->holm_p > 0.0 || !(rounds > 0.0)
                                  ? format_number("%.3g", r->holm_p)
                                  : "< " + format_number("%.1g", static_cast<double>(family) / rounds);
        const std::string separator = k == 0 ? "" : k + 1 == schemes.size() ? " and " : ", ";
        text += separator + r->init + " " + interval_text(s) + " p_holm " + p;
      }
      return text;
    };
    const VerdictOn on = others.front()->verdict_on;
    const bool held_out = on != VerdictOn::work;
    std::vector<std::string> parts;
    if (!faster.empty())
      parts.push_back(std::string(held_out ? "positive is BETTER than " : "positive is FASTER than ") + list(faster));
    if (!slower.empty())
      parts.push_back(std::string(held_out ? "positive is WORSE than " : "positive is SLOWER than ") + list(slower));
    if (!same.empty()) parts.push_back("NOT DISTINGUISHABLE from " + list(same));
    if (!unknown.empty()) {
      std::string names;
      for (std::size_t k = 0; k < unknown.size(); ++k) names += (k == 0 ? "" : ", ") + unknown[k]->init;
      parts.push_back(
          "CANNOT SAY against " + names +
          (held_out ? std::string(" (no held-out points, no labels, or both medians 0)")
                    : std::string(" (both medians infinite: fewer than half of the runs converged on each side)")));
    }
    out << "verdict " << where << ", " << protocol_name(*others.front()) << ", width " << std::get<4>(key);
    if (!positive->scale.empty()) out << ", positive at scale " << positive->scale;
    out << ": ";
    for (std::size_t k = 0; k < parts.size(); ++k) out << (k == 0 ? "" : "; ") << parts[k];
    const SummaryRow& first = *others.front();
    std::string measure = "gradient evaluations";
    if (on == VerdictOn::test_loss) {
      measure = "held-out mean squared error";
    } else if (on == VerdictOn::test_error) {
      measure = "held-out error rate 1 - accuracy";
    } else if (first.flow) {
      double accuracy = positive->time_accuracy;
      for (const SummaryRow* r : others)
        if (!std::isnan(r->time_accuracy))
          accuracy = std::isnan(accuracy) ? r->time_accuracy : std::max(accuracy, r->time_accuracy);
      std::string settled;
      if (std::isnan(accuracy)) {
        settled = ", not checked against a tighter rtol";
      } else if (std::isinf(accuracy)) {
        settled =
            ", not settled for every run: a run repeated at a tighter rtol did not reach the target (time_change = "
            "inf in runs.csv)";
      } else {
        settled = ", each time settled to " + format_number("%.2g", 100.0 * accuracy) + "% by a run at a tighter rtol";
      }
      measure =
          "flow time x beta0 to the target (a property of the flow" + settled + "; the solver's work is in the table)";
    }
    out << " (" << measure << ", the scheme's median / positive's with its 95% bootstrap interval; Holm's method over "
        << others.size() << (others.size() == 1 ? " scheme" : " schemes") << ", family-wise level "
        << format_number("%.3g", alpha) << "; converged: positive " << positive->converged << "/" << positive->runs;
    for (const SummaryRow* r : others) out << ", " << r->init << " " << r->converged << "/" << r->runs;
    out << ")\n";
    // Seeds that are not samples: said, so that nobody reads n identical runs as n draws.
    std::string one;
    for (const SummaryRow* r : members)
      if (r->runs > 1 && r->independent_samples == 1 && (r->init != "positive" || r == positive))
        one += (one.empty() ? "" : ", ") + r->init;
    if (!one.empty())
      out << "  (" << one << ": every run the same (work to 0.1%, times and held-out loss to 1e-4): one sample, not "
          << positive->runs << "; the intervals resample it as one value)\n";
  }
  return out.str();
}

std::string format_scale_path(const std::vector<SummaryRow>& rows) {
  std::vector<const SummaryRow*> path;
  for (const SummaryRow& r : rows)
    if (r.init == "positive" && !r.scale.empty()) path.push_back(&r);
  if (path.empty()) return "";
  std::stable_sort(path.begin(), path.end(), [](const SummaryRow* a, const SummaryRow* b) {
    const auto power = [](const SummaryRow* r) { return std::isnan(r->condition_power) ? 0.0 : r->condition_power; };
    return std::make_tuple(a->dataset, a->method, a->width, power(a), a->output_scale) <
           std::make_tuple(b->dataset, b->method, b->width, power(b), b->output_scale);
  });
  std::ostringstream out;
  char line[400];
  out << "scale path of the positive initialization (medians over the seeds):\n";
  std::snprintf(line, sizeof line, "  %-12s %5s %5s %-10s %11s %5s %11s %11s %10s %9s %9s\n", "protocol", "width", "a",
                "scale", "output", "cert", "work", "test_loss", "test_acc", "ntk_drift", "travel/r*");
  out << line;
  for (const SummaryRow* r : path) {
    const double work = r->flow ? r->median_time_beta0 : r->grad_evals.median;
    std::snprintf(line, sizeof line, "  %-12s %5ld %5s %-10s %11s %4.0f%% %11s %11s %10s %9s %9s\n",
                  protocol_name(*r).c_str(), r->width, text(r->condition_power, "%.3g").c_str(), r->scale.c_str(),
                  text(r->output_scale, "%.4g").c_str(),
                  100.0 * static_cast<double>(r->certified) / static_cast<double>(std::max(r->runs, 1L)),
                  text(work, "%.4g").c_str(), text(r->test_loss.estimate, "%.4g").c_str(),
                  text(r->test_accuracy.estimate, "%.3f").c_str(), text(r->median_ntk_drift, "%.3g").c_str(),
                  text(r->median_travel_fraction, "%.3g").c_str());
    out << line;
  }
  out << "  (work: gradient evaluations (descent) or flow time x beta0 (flow) to the target; ntk_drift:\n"
         "   ||K_T - K_0|| / ||K_0|| of the NTK; travel/r*: ||theta_T - theta0|| over the certificate's radius)\n";
  return out.str();
}

std::vector<ConditioningFit> fit_conditioning(const std::vector<SummaryRow>& rows) {
  using Key = std::tuple<std::string, std::string, std::string, long, long, std::string, std::string>;
  std::map<Key, ConditioningFit> fits;
  for (const SummaryRow& r : rows) {
    if (std::isnan(r.condition_power)) continue;
    ConditioningFit& f = fits[{r.dataset, r.method, r.activation, r.depth, r.width, r.init, r.scale}];
    f.dataset = r.dataset;
    f.method = protocol_name(r);
    f.activation = r.activation;
    f.depth = r.depth;
    f.width = r.width;
    f.init = r.init;
    f.scale = r.scale;
    f.conditions.push_back(r.input_condition);
    f.work.push_back(r.flow ? r.median_time_beta0 : r.grad_evals.median);
  }
  std::vector<ConditioningFit> out;
  for (auto& [key, f] : fits) {
    std::vector<std::size_t> order(f.conditions.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return f.conditions[a] < f.conditions[b]; });
    ConditioningFit sorted = f;
    for (std::size_t i = 0; i < order.size(); ++i) {
      sorted.conditions[i] = f.conditions[order[i]];
      sorted.work[i] = f.work[order[i]];
    }
    sorted.law = fit_power_law(sorted.conditions, sorted.work);
    out.push_back(std::move(sorted));
  }
  // Positive's law the others cross: off the scale path; else its auto scale; else the scale fitted over
  // the most powers (the first such in the table's order). One per data set, method, activation, depth and
  // width, whatever the reference row of each power (the scale path's largest scale can change with the power).
  const auto same_group = [](const ConditioningFit& a, const ConditioningFit& b) {
    return a.dataset == b.dataset && a.method == b.method && a.activation == b.activation && a.depth == b.depth &&
           a.width == b.width;
  };
  const auto rank = [](const ConditioningFit& p) {
    return std::make_pair(p.scale.empty() ? 2 : p.scale == "auto" ? 1 : 0, p.law.points);
  };
  for (ConditioningFit& f : out) {
    if (f.init == "positive") continue;
    const ConditioningFit* reference = nullptr;
    for (const ConditioningFit& p : out)
      if (p.init == "positive" && same_group(p, f) && (!reference || rank(p) > rank(*reference))) reference = &p;
    if (reference) f.crossing = power_law_crossing(reference->law, f.law);
  }
  return out;
}

std::string conditioning_csv_header() {
  return "dataset,method,activation,depth,width,init,scale,powers,fitted_points,exponent,factor,r2,crossing_condition,"
         "conditions,"
         "work";
}

std::string conditioning_csv_line(const ConditioningFit& f) {
  const auto number = [](double x) { return std::isnan(x) ? std::string() : full_precision(x); };
  std::string conditions, work;
  for (std::size_t i = 0; i < f.conditions.size(); ++i) {
    conditions += (i ? ";" : "") + number(f.conditions[i]);
    work += (i ? ";" : "") + number(f.work[i]);
  }
  return csv_text(Value{f.dataset}) + "," + f.method + "," + f.activation + "," + std::to_string(f.depth) + "," +
         std::to_string(f.width) + "," + f.init + "," + f.scale + "," + std::to_string(f.conditions.size()) + "," +
         std::to_string(f.law.points) + "," + number(f.law.exponent) + "," + number(f.law.factor) + "," +
         number(f.law.r2) + "," + number(f.crossing) + "," + conditions + "," + work;
}

std::string format_conditioning(const std::vector<ConditioningFit>& fits) {
  if (fits.empty()) return "";
  std::ostringstream out;
  char line[400];
  out << "conditioning path: work against cond(X) fitted as a cond^k (log-log least squares over the powers):\n";
  std::snprintf(line, sizeof line, "  %-12s %5s %-15s %6s %6s %9s %8s %14s\n", "protocol", "width", "init", "powers",
                "fitted", "exponent", "r2", "crossing cond");
  out << line;
  for (const ConditioningFit& f : fits) {
    const std::string init = f.scale.empty() ? f.init : f.init + "@" + f.scale;
    std::snprintf(line, sizeof line, "  %-12s %5ld %-15s %6zu %6ld %9s %8s %14s\n", f.method.c_str(), f.width,
                  init.c_str(), f.conditions.size(), f.law.points, text(f.law.exponent, "%.2f").c_str(),
                  text(f.law.r2, "%.3f").c_str(), text(f.crossing, "%.3g").c_str());
    out << line;
  }
  out << "  (work: median gradient evaluations (descent) or flow time x beta0 (flow) to the target; a median\n"
         "   that is infinite (fewer than half of the runs converged) leaves its power out of the fit (fitted:\n"
         "   the powers used). crossing: the\n"
         "   condition number where the scheme's law equals positive's, an extrapolation of the two fits;\n"
         "   docs/theory.md §6.5)\n";
  return out.str();
}

}  // namespace gradflow

#include <gradflow/apps/sweep/sweep_plots.hpp>

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/apps/sweep/sweep_files.hpp>
#include <gradflow/core/text.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace gradflow {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Linear interpolation of y (in log space when log_space) at step x, or NaN outside the curve.
// The x axis of the curves: the iteration, or the accepted flow step.
double step_of(const CurvePoint& point) { return static_cast<double>(point.iter); }

double interpolate(const std::vector<CurvePoint>& curve, double t, double CurvePoint::*field, bool log_space) {
  if (curve.empty() || t < step_of(curve.front()) || t > step_of(curve.back())) return kNaN;
  for (std::size_t i = 1; i < curve.size(); ++i) {
    if (t <= step_of(curve[i])) {
      const double t0 = step_of(curve[i - 1]), t1 = step_of(curve[i]);
      double y0 = curve[i - 1].*field, y1 = curve[i].*field;
      const double w = t1 > t0 ? (t - t0) / (t1 - t0) : 1.0;
      if (log_space) {
        if (!(y0 > 0.0) || !(y1 > 0.0)) return w < 0.5 ? y0 : y1;
        return std::exp(std::log(y0) + w * (std::log(y1) - std::log(y0)));
      }
      return y0 + w * (y1 - y0);
    }
  }
  return curve.back().*field;
}

}  // namespace

double value_carried_forward(const std::vector<CurvePoint>& curve, double t, double CurvePoint::*field,
                             bool log_space) {
  if (curve.empty() || t < step_of(curve.front())) return kNaN;
  if (t >= step_of(curve.back())) return curve.back().*field;
  return interpolate(curve, t, field, log_space);
}

std::vector<double> carried_forward_median(const std::vector<std::vector<CurvePoint>>& curves,
                                           const std::vector<double>& scales, const std::vector<double>& steps,
                                           double CurvePoint::*field, bool log_space) {
  std::vector<double> medians;
  std::vector<double> values;
  for (const double t : steps) {
    values.clear();
    for (std::size_t i = 0; i < curves.size(); ++i) {
      const double v = value_carried_forward(curves[i], t, field, log_space);
      if (std::isfinite(v)) values.push_back(v / scales[i]);
    }
    medians.push_back(values.empty() ? kNaN : quantile(values, 0.5));
  }
  return medians;
}

namespace {

std::string text(double x) {
  if (!std::isfinite(x)) return "NaN";
  return full_precision(x);
}

void write(const OutputFolder& folder, const std::string& name, const std::string& content) {
  write_file_atomically("plots", folder, name, [&](std::ostream& out) { out << content; });
}

// One script drawing the same plot as PNG and as SVG. Run by hand in the plots folder, it writes
// NAME.png and NAME.svg there; the sweep sets outdir to a private temporary folder inside it, from which
// the finished figures are renamed into place (so gnuplot never opens a name a link could be planted as).
std::string script(const std::string& name, const std::string& setup, const std::string& plot) {
  std::ostringstream out;
  out << "if (!exists(\"outdir\")) outdir = ''\n"
      << "set terminal pngcairo size 960,600 noenhanced font ',11'\nset output outdir.'" << name << ".png'\n"
      << setup << plot << "\n"
      << "set terminal svg size 960,600 noenhanced font 'Sans,11'\nset output outdir.'" << name
      << ".svg'\nreplot\nunset output\n";
  return out.str();
}

// Text for a gnuplot title inside single or double quotes: user text (a data set's file name) keeps only
// characters that cannot end the string, escape or start a substitution (no quotes, backslashes,
// backquotes, '@', '$').
std::string title_text(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view(" _-.:,/+=()[]").find(static_cast<char>(c)) != std::string_view::npos;
    out += plain ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace

PlotResult make_plots(const OutputFolder& out, const SweepSpec& spec, const std::vector<RunRecord>& records,
                      const std::vector<SummaryRow>& summary) {
  PlotResult result;
  if (records.empty()) {
    result.warning = "no runs to plot";
    return result;
  }
  const OutputFolder plots = out.sub("plots", /*create=*/true);
  const fs::path dir = plots.path();
  std::optional<OutputFolder> data_folder;
  const auto data = [&]() -> const OutputFolder& {
    if (!data_folder) data_folder.emplace(plots.sub("data", /*create=*/true));
    return *data_folder;
  };
  std::optional<OutputFolder> curve_folder;
  if (out.kind("curves") != OutputFolder::Kind::missing) curve_folder.emplace(out.sub("curves", /*create=*/false));
  const long width = *std::max_element(spec.widths.begin(), spec.widths.end());
  // On the paths, the figures below show one slice: the conditioning path's first power, and positive at
  // its reference scale (SummaryRow::reference); the paths have their own figures.
  const auto main_row = [&](const SummaryRow& row) {
    return (std::isnan(row.condition_power) || row.condition_power == spec.condition_path.front()) &&
           (row.init != "positive" || row.reference);
  };
  std::string reference_scale;
  for (const SummaryRow& row : summary)
    if (row.init == "positive" && row.reference && row.width == width && main_row(row)) reference_scale = row.scale;
  // tuned-fixed: each scheme's best c at this width, from the summary.
  std::map<std::string, double> best_c;
  for (const SummaryRow& row : summary) {
    if (!main_row(row)) continue;
    if (row.dataset == spec.datasets.front().name() && row.method == spec.methods.front().name() &&
        row.activation == to_string(spec.activations.front()) && row.depth == spec.depths.front() && row.width == width)
      best_c[row.init] = row.lr_c;
  }
  const auto in_slice = [&](const RunRecord& r, bool any_width) {
    if (r.run.lr_c > 0.0) {
      const auto found = best_c.find(std::string(to_string(r.run.init)));
      if (found == best_c.end() || found->second != r.run.lr_c) return false;
    }
    if (r.run.power && *r.run.power != spec.condition_path.front()) return false;
    if (r.run.scale && r.run.scale->name() != reference_scale) return false;
    return r.run.dataset == spec.datasets.front() && r.run.method == spec.methods.front() &&
           r.run.activation == spec.activations.front() && r.run.depth == spec.depths.front() &&
           (any_width || r.run.width == width);
  };
  // Curves of the slice, per scheme.
  std::map<std::string, std::vector<std::pair<const RunRecord*, std::vector<CurvePoint>>>> curves;
  double t_max = 0.0;
  for (const RunRecord& r : records) {
    if (!in_slice(r, false)) continue;
    if (!curve_folder) continue;
    const std::optional<std::string> text = curve_folder->read(fs::path(curve_file_name(r.run)).filename().string());
    if (!text) continue;
    auto curve = parse_curve(*text);
    if (curve.size() < 2) continue;
    t_max = std::max(t_max, step_of(curve.back()));
    curves[std::string(to_string(r.run.init))].emplace_back(&r, std::move(curve));
  }
  const int points = 150;
  std::string loss_plot, pl_plot, distance_plot, bound_plot, travel_plot, missing_curves;
  int color = 1;
  for (const InitScheme scheme : spec.inits) {
    const std::string init(to_string(scheme));
    const auto found = curves.find(init);
    if (found == curves.end()) {
      // Every scheme appears in every figure: one without a curve gets a legend entry saying so.
      const std::string entry =
          "NaN with lines lw 2 lc " + std::to_string(color) + " title '" + init + " (no curve)', ";
      missing_curves += entry;
      ++color;
      continue;
    }
    std::ostringstream loss, pl, distance, bound;
    loss << "# step median_loss_over_L0 q25 q75\n";
    pl << "# step median_pl_ratio_over_beta0\n";
    distance << "# step median_dist q25 q75\n";
    bound << "# step median_certified_bound_over_L0\n";
    bool has_bound = false;
    std::vector<double> steps;
    for (int k = 0; k < points; ++k) steps.push_back(std::round(t_max * k / (points - 1)));
    // Every run carried forward past its end: no survivor bias in the medians.
    std::vector<std::vector<CurvePoint>> run_curves;
    std::vector<double> loss0s, beta0s, ends;
    for (const auto& [record, curve] : found->second) {
      run_curves.push_back(curve);
      loss0s.push_back(record->loss0);
      beta0s.push_back(record->beta0);
      ends.push_back(step_of(curve.back()));
    }
    const std::vector<double> median_bound =
        carried_forward_median(run_curves, loss0s, steps, &CurvePoint::bound, true);
    std::ostringstream runs;
    runs << "# step loss_over_L0, one block per run (carried forward after its end)\n";
    for (std::size_t i = 0; i < run_curves.size(); ++i) {
      // Each run's own line ends where the run ended (a flat line after it would read as a plateau); the
      // medians below carry it forward.
      for (const double t : steps) {
        const double at = std::min(t, ends[i]);
        runs << text(at) << " " << text(value_carried_forward(run_curves[i], at, &CurvePoint::loss, true) / loss0s[i])
             << "\n";
        if (t >= ends[i]) break;
      }
      runs << "\n\n";
    }
    // The medians end where the scheme's last run ended: past it every run is carried forward, and the
    // flat lines would read as plateaus.
    const double last_end = *std::max_element(ends.begin(), ends.end());
    for (std::size_t k = 0; k < steps.size(); ++k) {
      if (steps[k] > last_end && (k == 0 || steps[k - 1] >= last_end)) break;
      const double t = std::min(steps[k], last_end);
      std::vector<double> l, p, d;
      for (std::size_t i = 0; i < run_curves.size(); ++i) {
        const double loss_t = value_carried_forward(run_curves[i], t, &CurvePoint::loss, true);
        if (std::isnan(loss_t)) continue;
        l.push_back(loss_t / loss0s[i]);
        // The rate per explicit step: PL ratio / beta0 (the raw ratio scales with the output scale squared).
        p.push_back(beta0s[i] > 0.0 ? value_carried_forward(run_curves[i], t, &CurvePoint::pl_ratio, true) / beta0s[i]
                                    : std::numeric_limits<double>::quiet_NaN());
        d.push_back(value_carried_forward(run_curves[i], t, &CurvePoint::dist_from_init, false));
      }
      if (l.empty()) continue;
      loss << text(t) << " " << text(quantile(l, 0.5)) << " " << text(quantile(l, 0.25)) << " "
           << text(quantile(l, 0.75)) << "\n";
      p.erase(std::remove_if(p.begin(), p.end(), [](double x) { return !std::isfinite(x); }), p.end());
      if (!p.empty()) pl << text(t) << " " << text(quantile(p, 0.5)) << "\n";
      distance << text(t) << " " << text(quantile(d, 0.5)) << " " << text(quantile(d, 0.25)) << " "
               << text(quantile(d, 0.75)) << "\n";
      if (std::isfinite(median_bound[k])) {
        bound << text(t) << " " << text(median_bound[k]) << "\n";
        has_bound = true;
      }
    }
    const std::string base = "data/" + init;
    write(data(), init + "_loss.dat", loss.str());
    write(data(), init + "_pl.dat", pl.str());
    write(data(), init + "_distance.dat", distance.str());
    write(data(), init + "_runs.dat", runs.str());
    const std::string c = std::to_string(color);
    loss_plot += "'" + base + "_runs.dat' using 1:2 with lines lw 0.5 lc " + c + " notitle, '" + base +
                 "_loss.dat' using 1:3:4 with filledcurves fs transparent solid 0.2 noborder lc " + c + " notitle, '" +
                 base + "_loss.dat' using 1:2 with lines lw 2 lc " + c + " title '" + init + "', ";
    pl_plot += "'" + base + "_pl.dat' using 1:2 with lines lw 2 lc " + c + " title '" + init + "', ";
    distance_plot += "'" + base + "_distance.dat' using 1:3:4 with filledcurves fs transparent solid 0.2 noborder lc " +
                     c + " notitle, '" + base + "_distance.dat' using 1:2 with lines lw 2 lc " + c + " title '" + init +
                     "', ";
    if (has_bound) {
      write(data(), init + "_bound.dat", bound.str());
      bound_plot += "'" + base + "_bound.dat' using 1:2 with lines dt 2 lw 2 lc " + c +
                    " title 'certified bound, median of runs (" + init + ")', ";
      std::vector<double> travel;
      for (const auto& [record, curve] : found->second)
        if (std::isfinite(record->certified_travel)) travel.push_back(record->certified_travel);
      if (!travel.empty()) {
        travel_plot += std::to_string(quantile(travel, 0.5)) + " with lines dt 2 lw 2 lc " + c +
                       " title 'certified travel (" + init + ")', ";
      }
    }
    ++color;
  }
  // Steps to eps against width, from the summary.
  std::string steps_plot;
  bool any_steps = false;
  color = 1;
  for (const InitScheme scheme : spec.inits) {
    const std::string init(to_string(scheme));
    std::ostringstream steps;
    steps << "# width median_steps q25 q75 (converged medians only)\n";
    bool any = false;
    for (const SummaryRow& row : summary) {
      if (!main_row(row)) continue;
      if (row.init != init || row.dataset != spec.datasets.front().name() ||
          row.method != spec.methods.front().name() || row.activation != to_string(spec.activations.front()) ||
          row.depth != spec.depths.front() || !std::isfinite(row.steps.median)) {
        continue;
      }
      steps << row.width << " " << text(row.steps.median) << " " << text(row.steps.q25) << " " << text(row.steps.q75)
            << "\n";
      any = true;
    }
    if (any) {
      write(data(), init + "_steps.dat", steps.str());
      steps_plot += "'data/" + init + "_steps.dat' using 1:2:3:4 with yerrorlines lw 2 lc " + std::to_string(color) +
                    " title '" + init + "', ";
      any_steps = true;
    } else {
      steps_plot += "NaN with lines lw 2 lc " + std::to_string(color) + " title '" + init +
                    ": fewer than half of its runs converged at every width', ";
    }
    ++color;
  }
  // Work to the target against width: speedup_grad_evals with its bootstrap interval.
  std::string work_plot;
  color = 1;
  for (const InitScheme scheme : spec.inits) {
    const std::string init(to_string(scheme));
    if (init == "positive") {
      ++color;
      continue;
    }
    std::ostringstream work;
    work << "# width speedup_grad_evals low high (median gradient evaluations of " << init
         << " / positive's, 95% bootstrap interval)\n";
    bool any = false;
    for (const SummaryRow& row : summary) {
      if (!main_row(row)) continue;
      if (row.init != init || row.dataset != spec.datasets.front().name() ||
          row.method != spec.methods.front().name() || row.activation != to_string(spec.activations.front()) ||
          row.depth != spec.depths.front() || !std::isfinite(row.speedup_grad_evals.estimate) ||
          !(row.speedup_grad_evals.estimate > 0.0) || !std::isfinite(row.speedup_grad_evals.low) ||
          !std::isfinite(row.speedup_grad_evals.high)) {
        continue;
      }
      work << row.width << " " << text(row.speedup_grad_evals.estimate) << " "
           << text(std::max(row.speedup_grad_evals.low, 1e-300)) << " " << text(row.speedup_grad_evals.high) << "\n";
      any = true;
    }
    if (any) {
      write(data(), init + "_work.dat", work.str());
      work_plot += "'data/" + init + "_work.dat' using 1:2:3:4 with yerrorlines lw 2 lc " + std::to_string(color) +
                   " title '" + init + "', ";
    } else {
      work_plot += "NaN with lines lw 2 lc " + std::to_string(color) + " title '" + init +
                   ": no finite ratio (its median or that of positive is infinite)', ";
    }
    ++color;
  }
  const auto strip = [](std::string s) { return s.size() >= 2 ? s.substr(0, s.size() - 2) : s; };
  const std::string protocol = spec.methods.front() == Method{StepRule::fixed} && !spec.lr_grid.empty()
                                   ? std::string("tuned-fixed (each scheme at its best c)")
                               : spec.methods.front().is_descent() ? spec.methods.front().name()
                                                                   : "flow (" + spec.methods.front().name() + ")";
  // The data set by its name, never a path (a file data set by its file name), and the setting on lines
  // short enough for the figure's width.
  const DatasetSpec& dataset = spec.datasets.front();
  const std::string data_name =
      dataset.kind == DatasetSpec::Kind::file ? fs::path(dataset.path).filename().string() : dataset.name();
  const std::string setting = "protocol " + protocol + "\\n" + title_text(data_name) + ", " +
                              std::string(to_string(spec.activations.front())) + ", depth " +
                              std::to_string(spec.depths.front());
  const std::string slice = setting + ", width " + std::to_string(width);
  // Inside the plot, boxed and opaque: outside, it took half the width.
  const std::string key = "set key inside top right opaque box samplen 2 font ',9'\n";
  // The widths' range, for the figures against width (set, so that a figure of NaN entries still draws).
  const auto [min_width, max_width] = std::minmax_element(spec.widths.begin(), spec.widths.end());
  const std::string width_range = "set xrange [" + text(static_cast<double>(*min_width) / 1.5) + ":" +
                                  text(static_cast<double>(*max_width) * 1.5) + "]\n";
  std::vector<std::pair<std::string, std::string>> scripts;
  if (!loss_plot.empty()) {
    scripts.emplace_back(
        "loss",
        script("loss",
               "set title \"Loss / L0: thin, each run to its end; thick, median and quartiles per scheme\\n" + slice +
                   "\"\nset logscale y\nset format y '%.0e'\nset xlabel 'step (iteration, or accepted flow step)'\n"
                   "set ylabel 'L / L0'\n" +
                   key,
               "plot " + strip(loss_plot + bound_plot + missing_curves)));
    scripts.emplace_back(
        "pl_ratio", script("pl_ratio",
                           "set title \"Rate per explicit step: PL ratio ||grad L||^2 / (2 L) / beta0 (median, carried "
                           "forward)\\n" +
                               slice + "\"\nset logscale y\nset xlabel 'step'\nset ylabel 'PL ratio / beta0'\n" + key,
                           "plot " + strip(pl_plot + missing_curves)));
    scripts.emplace_back(
        "distance", script("distance",
                           "set title \"Distance from initialization (median and quartiles, carried forward)\\n" +
                               slice + "\"\nset logscale y\nset xlabel 'step'\nset ylabel '||theta - theta0||'\n" + key,
                           "plot " + strip(distance_plot + travel_plot + missing_curves)));
  }
  if (any_steps) {
    scripts.emplace_back(
        "steps_vs_width",
        script("steps_vs_width",
               "set title \"Median steps to the target (quartile bars)\\n" + setting +
                   "\"\nset logscale y\nset logscale x 2\nset xlabel 'width'\nset ylabel 'steps to eps'\n" + key +
                   width_range,
               "plot " + strip(steps_plot)));
  }
  if (!work_plot.empty()) {
    scripts.emplace_back(
        "work", script("work",
                       "set title \"Gradient evaluations to the target, scheme / positive\\n(ratio of medians, 95% "
                       "bootstrap interval; above 1: positive needed fewer)\\n" +
                           setting +
                           "\"\nset logscale y\nset logscale x 2\nset xlabel 'width'\nset ylabel "
                           "'speedup_grad_evals'\n" +
                           key + width_range,
                       "plot " + strip(work_plot) + ", 1 with lines dt 2 lc 'black' title 'no difference'"));
  }
  // The scale path (docs/theory.md §6.5): positive's work, held-out loss, kernel drift and travel over r*
  // against its output scale, at the slice's width.
  {
    std::vector<const SummaryRow*> path;
    for (const SummaryRow& row : summary)
      if (row.init == "positive" && !row.scale.empty() && row.dataset == spec.datasets.front().name() &&
          row.method == spec.methods.front().name() && row.activation == to_string(spec.activations.front()) &&
          row.depth == spec.depths.front() && row.width == width &&
          (std::isnan(row.condition_power) || row.condition_power == spec.condition_path.front()))
        path.push_back(&row);
    std::sort(path.begin(), path.end(),
              [](const SummaryRow* a, const SummaryRow* b) { return a->output_scale < b->output_scale; });
    if (path.size() >= 2) {
      std::ostringstream dat;
      dat << "# output_scale work test_loss ntk_drift travel_fraction (medians over the seeds; work: gradient "
             "evaluations, or flow time x beta0, to the target)\n";
      for (const SummaryRow* r : path)
        dat << text(r->output_scale) << " " << text(r->flow ? r->median_time_beta0 : r->grad_evals.median) << " "
            << text(r->test_loss.estimate) << " " << text(r->median_ntk_drift) << " " << text(r->median_travel_fraction)
            << "\n";
      write(data(), "scale_path.dat", dat.str());
      scripts.emplace_back(
          "scale_path",
          script("scale_path",
                 "set title \"The positive initialization along its output scale: work (left), kernel drift, travel / "
                 "r* and held-out loss (right)\\n" +
                     slice +
                     "\"\nset logscale x\nset logscale y\nset logscale y2\nset ytics nomirror\nset y2tics\n"
                     "set format y2 '%.0e'\nset xlabel 'output scale'\nset ylabel 'work to the target'\n"
                     "set y2label 'ntk_drift, travel / r*, test_loss'\n" +
                     key,
                 "plot 'data/scale_path.dat' using 1:2 with linespoints lw 2 lc 1 title 'work', "
                 "'' using 1:4 axes x1y2 with linespoints lw 2 lc 2 title '||K_T - K_0|| / ||K_0||', "
                 "'' using 1:5 axes x1y2 with linespoints lw 2 lc 3 title 'travel / r*', "
                 "'' using 1:3 axes x1y2 with linespoints lw 2 lc 4 title 'test_loss'"));
    }
  }
  // The conditioning path: work against cond(X) per scheme on log-log axes, with each fitted power law.
  {
    std::string plot;
    int color = 1;
    for (const ConditioningFit& f : fit_conditioning(summary)) {
      if (f.dataset != spec.datasets.front().name() || f.activation != to_string(spec.activations.front()) ||
          f.depth != spec.depths.front() || f.width != width)
        continue;
      std::ostringstream dat;
      dat << "# cond(X) work (" << f.init << ")\n";
      for (std::size_t i = 0; i < f.conditions.size(); ++i)
        dat << text(f.conditions[i]) << " " << text(f.work[i]) << "\n";
      const std::string name = f.init + "_conditioning.dat";
      write(data(), name, dat.str());
      plot += "'data/" + name + "' using 1:2 with points pt 7 ps 1.3 lc " + std::to_string(color) + " title '" +
              f.init + "', ";
      if (std::isfinite(f.law.exponent))
        plot += text(f.law.factor) + "*x**" + text(f.law.exponent) + " with lines lw 2 lc " + std::to_string(color) +
                " title '" + f.init + ": exponent " + format_number("%.2f", f.law.exponent) + "', ";
      ++color;
    }
    if (!plot.empty()) {
      scripts.emplace_back(
          "conditioning",
          script("conditioning",
                 "set title \"Work to the target against the inputs' condition number (X -> U S^a V^T), with each "
                 "scheme's fitted power law\\n" +
                     slice +
                     "\"\nset logscale xy\nset xlabel 'cond(X)'\nset ylabel 'work to the target'\n"
                     "set key inside top left opaque box samplen 2 font ',9'\n",
                 "plot " + strip(plot)));
    }
  }
  if (scripts.empty()) {
    result.warning = "no curves or converged runs to plot";
    return result;
  }
  // Said, not silently skipped (a later warning about gnuplot replaces it).
  if (!any_steps) result.warning = "steps_vs_width not drawn: no scheme converged in half of its runs at any width";
  for (const auto& [name, content] : scripts) write(plots, name + ".gp", content);
  if (!find_program("gnuplot")) {
    result.warning = "gnuplot is not installed (apt-get install gnuplot-nox): scripts and data are in " + dir.string() +
                     ", figures not drawn";
    return result;
  }
  // gnuplot writes the figures into a private temporary folder inside plots/ (made 0700 by this process,
  // so no link can be planted in it, and removed on every path and handled signal); each whole figure is
  // then renamed into place, never over a link. No shell: gnuplot runs in plots/ (entered through its
  // descriptor) and reads the script, opened here without following a link, on its standard input, so the
  // folder's name (whatever it holds) never reaches a command line or a script.
  TemporaryFolder drawn(plots);
  for (const auto& [name, content] : scripts) {
    (void)content;
    for (const char* extension : {".png", ".svg"}) drawn.expect(name + extension);
    const int log = drawn.create(name + ".log");
    struct Closer {
      int fd;
      ~Closer() {
        if (fd >= 0) ::close(fd);
      }
    } log_closer{log};
    const int script_fd = ::openat(plots.fd(), (name + ".gp").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (script_fd < 0)
      throw IoError("plots " + (dir / (name + ".gp")).string() + ": cannot read the script: " + std::strerror(errno));
    const Closer script_closer{script_fd};
    SpawnOptions options;
    options.working_directory_fd = plots.fd();
    options.stdin_fd = script_fd;
    options.stderr_fd = log;
    const SpawnResult run = run_program({"gnuplot", "-e", "outdir='" + drawn.name() + "/'", "-"}, options);
    if (!run.succeeded()) {
      std::string kept;
      try {
        drawn.move_out(name + ".log", name + ".log");
        kept = "see " + (dir / (name + ".log")).string();
      } catch (const IoError& e) {
        kept = e.what();
      }
      result.warning = "gnuplot failed on " + (dir / (name + ".gp")).string() + " (" + kept +
                       (run.error.empty() ? "" : "; " + run.error) + ")";
      continue;
    }
    drawn.remove(name + ".log");
    plots.remove(name + ".log");  // a log left by an earlier failure (a link: the link itself)
    for (const char* extension : {".png", ".svg"}) {
      const std::string figure = name + extension;
      if (!drawn.holds(figure)) {
        result.warning = "gnuplot did not write " + (dir / figure).string();
        continue;
      }
      if (!figure_is_whole(drawn.fd(), figure)) {
        // gnuplot exits 0 when the disk fills up under it: a cut figure is removed, never put in place.
        drawn.remove(figure);
        result.warning = "gnuplot wrote an incomplete " + (dir / figure).string() + " (disk full?): removed";
        continue;
      }
      drawn.move_out(figure, figure);
      result.files.push_back((dir / figure).string());
    }
  }
  return result;
}

}  // namespace gradflow

// The sweep's figures, drawn by gnuplot as PNG and SVG under <out>/plots: for the slice of the grid at
// the largest width (first data set, method, activation and depth; tuned-fixed: each scheme at its
// best c),
//   loss.{png,svg}      L / L0 against the step, every run thinly and the median and quartile band of
//                       each scheme on top, with the median of the per-run certified bounds
//                       L0 exp(-2 mu t) of the positive runs;
//   pl_ratio.{png,svg}  the PL ratio ||grad L||^2 / (2 L) against the step, median per scheme;
//   distance.{png,svg}  ||theta - theta0|| against the step per scheme, with the certified travel of
//                       the positive runs;
// and, over the widths, steps_vs_width.{png,svg}: median steps to the target per scheme with quartile
// bars, and work.{png,svg}: speedup_grad_evals per scheme (median gradient evaluations of the scheme /
// positive's) with its 95% bootstrap interval, against a line at 1.
// A run that stopped (it reached the target, or diverged) keeps its last value in the medians after
// it stopped (carried forward), so the median never jumps up when the fast runs stop, and the median
// of per-run bounds, each non-increasing, is non-increasing. Titles state the protocol, the data,
// the width, the depth and the activation.
// The step is the descent iteration or the accepted flow step (schemes differ in their natural time
// scales, so steps, not flow time, make them comparable). The gnuplot scripts and the
// data files they read are kept next to the figures (`gnuplot loss.gp` in plots/ draws loss.png and
// loss.svg again).
#pragma once

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/experiments/sweep_summary.hpp>

#include <string>
#include <vector>

namespace gradflow {

struct PlotResult {
  std::vector<std::string> files;  // the figures written
  std::string warning;             // why figures are missing (no gnuplot, no data), if any
};

// A curve's value at step t: interpolated (in log space when log_space) inside the curve, its last
// value after its end (carried forward), NaN before its start.
double value_carried_forward(const std::vector<CurvePoint>& curve, double t, double CurvePoint::*field, bool log_space);

// The median over the curves at each step, each curve carried forward past its end, each divided by
// its scale (L0 for the loss; 1 for others).
std::vector<double> carried_forward_median(const std::vector<std::vector<CurvePoint>>& curves,
                                           const std::vector<double>& scales, const std::vector<double>& steps,
                                           double CurvePoint::*field, bool log_space);

// Draws the figures under out's plots/ from the curves under out's curves/, every file and sub-folder
// reached from out's descriptor: a symbolic link planted there is refused (IoError naming it), never
// followed, and nothing is written to its target.
PlotResult make_plots(const OutputFolder& out, const SweepSpec& spec, const std::vector<RunRecord>& records,
                      const std::vector<SummaryRow>& summary);

}  // namespace gradflow

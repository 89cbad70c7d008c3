// The sweep's figures, drawn by gnuplot as PNG and SVG under <out>/plots: for the slice of the grid at
// the largest width (first data set, method, activation and depth),
//   loss.{png,svg}      L / L0 against the step, the median and quartile band of each scheme, with
//                       the certified bound L0 exp(-2 mu t) of the positive runs overlaid;
//   pl_ratio.{png,svg}  the PL ratio ||grad L||^2 / (2 L) against the step, median per scheme;
//   distance.{png,svg}  ||theta - theta0|| against the step per scheme, with the certified travel of
//                       the positive runs;
// and, over the widths, steps_vs_width.{png,svg}: median steps to eps per scheme with quartile bars.
// The step is the descent iteration or the accepted flow step (schemes differ in their natural time
// scales, so steps, not flow time, make them comparable). The gnuplot scripts and the
// data files they read are kept next to the figures.
#pragma once

#include <gradflow/experiments/sweep_summary.hpp>

#include <string>
#include <vector>

namespace gradflow {

struct PlotResult {
  std::vector<std::string> files;  // the figures written
  std::string warning;             // why figures are missing (no gnuplot, no data), if any
};

PlotResult make_plots(const SweepSpec& spec, const std::vector<RunRecord>& records,
                      const std::vector<SummaryRow>& summary);

}  // namespace gradflow

#include <gradflow/experiments/compare_inits.hpp>

#include <gradflow/core/text.hpp>

#include <cmath>

namespace gradflow {
namespace {

constexpr NameTable<Protocol, 3> kProtocolNames{{{
    {Protocol::armijo, "armijo"},
    {Protocol::tuned_fixed, "tuned-fixed"},
    {Protocol::flow, "flow"},
}}};

constexpr double kDefaultEps = 1e-6;

}  // namespace

std::string_view to_string(Protocol protocol) { return kProtocolNames.name(protocol); }

std::optional<Protocol> protocol_from_string(std::string_view name) { return kProtocolNames.value(name); }

const std::vector<std::string>& protocol_names() { return kProtocolNames.cached_names(); }

std::vector<Method> protocol_methods(Protocol protocol, Solver solver) {
  switch (protocol) {
    case Protocol::armijo:
      return {Method{StepRule::armijo}};
    case Protocol::tuned_fixed:
      return {Method{StepRule::fixed}};
    case Protocol::flow:
      return {Method{solver}};
  }
  return {};
}

const std::vector<double>& default_lr_grid() {
  static const std::vector<double> grid{0.25, 0.5, 1.0, 1.5, 1.9, 2.5, 4.0};
  return grid;
}

std::optional<OptionError> CompareInitsSpec::validate() const {
  if (seeds < 1 || seeds > 10000000)
    return OptionError{"seeds", std::to_string(seeds), "must be in [1, 1e7] (a count of seeds)"};
  if (depth < 1 || depth > 64) return OptionError{"depth", std::to_string(depth), "must be in [1, 64]"};
  if (solver && protocol != Protocol::flow)
    return OptionError{"solver", std::string(to_string(*solver)), "is for the flow protocol only"};
  if (rtol && protocol != Protocol::flow)
    return OptionError{"rtol", full_precision(*rtol), "is for the flow protocol only"};
  if (atol && protocol != Protocol::flow)
    return OptionError{"atol", full_precision(*atol), "is for the flow protocol only"};
  if (lr_grid && protocol != Protocol::tuned_fixed)
    return OptionError{"lr_grid", std::to_string(lr_grid->size()) + " factors", "is for the tuned-fixed protocol only"};
  if (lr_grid && lr_grid->empty())
    return OptionError{"lr_grid", "[]", "the list is empty (tuned-fixed needs at least one factor c)"};
  if (eps && loss_tol)
    return OptionError{"loss_tol", full_precision(*loss_tol), "cannot be combined with an eps (give one of the two)"};
  if (output_scale && !(std::isfinite(*output_scale) && *output_scale > 0.0))
    return OptionError{"output_scale", full_precision(*output_scale), "must be a finite number > 0, or auto"};
  if (scale_path && (*scale_path < 2 || *scale_path > 1000))
    return OptionError{"scale_path", std::to_string(*scale_path), "must be in [2, 1000] (a number of scales)"};
  if (scale_path && (output_scale || !output_scales.empty()))
    return OptionError{"scale_path", std::to_string(*scale_path), "give a scale path or output scales, not both"};
  if (compare_whitened && !condition_path.empty())
    return OptionError{"compare_whitened", "", "is the condition path 1,0: give it or a condition path, not both"};
  if (dataset.kind == DatasetSpec::Kind::file && !data)
    return OptionError{"data", dataset.path, "the data set was not read"};
  if (auto error = to_sweep().validate()) {
    // The sweep's names for what is one value here.
    if (error->field == "depths") error->field = "depth";
    if (error->field == "activations") error->field = "activation";
    return error;
  }
  return std::nullopt;
}

SweepSpec CompareInitsSpec::to_sweep() const {
  SweepSpec spec;
  spec.inits = inits;
  spec.widths = widths;
  spec.depths = {depth};
  spec.activations = {activation};
  spec.seeds.clear();
  for (long s = 0; s < seeds; ++s) spec.seeds.push_back(s);
  spec.methods = protocol_methods(protocol, solver.value_or(Solver::dopri5));
  if (protocol == Protocol::tuned_fixed) spec.lr_grid = lr_grid.value_or(default_lr_grid());
  spec.datasets = {dataset};
  if (dataset.kind == DatasetSpec::Kind::file && data) spec.file_data[dataset.name()] = *data;
  spec.eps = eps.value_or(kDefaultEps);
  spec.loss_tol = loss_tol;
  spec.max_steps = max_steps;
  if (rtol) spec.rtol = *rtol;
  if (atol) spec.atol = *atol;
  spec.time_accuracy = time_accuracy;
  spec.lr = lr;
  spec.output_scale = output_scale;
  spec.scale_margin = scale_margin;
  spec.preprocess = preprocess;
  spec.teacher = teacher;
  spec.observe = observe;
  spec.out = out;
  spec.output_scales = scale_path ? gradflow::scale_path(*scale_path) : output_scales;
  spec.scale_start = scale_start;
  spec.scale_end = scale_end;
  spec.condition_path = compare_whitened ? std::vector<double>{1.0, 0.0} : condition_path;
  spec.holdout = holdout;
  spec.holdout_seed = holdout_seed;
  spec.test_data = test_data;
  spec.test_file = test;
  spec.verdict_on = verdict_on;
  return spec;
}

}  // namespace gradflow

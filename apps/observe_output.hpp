// --observe on the flow and descend commands: the option, its check against the problem, the CSV
// columns it adds, and its part of the JSON summary (theory/observables.hpp, docs/theory.md §8).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/flow/callbacks.hpp>
#include <gradflow/theory/observables.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gradflow::cli {

// Adds --observe LIST to a command; raw keeps the items until parse_observe.
void add_observe_option(CLI::App& command, std::vector<std::string>& raw);
// The items of --observe (ntk, sharpness, sharpness2, condition); an unknown one is an InputError.
Observables parse_observe(const std::vector<std::string>& raw);
// InputError naming --observe when the problem cannot give what is asked (no residuals for the ntk, no
// exact Hessian-vector product for the sharpness), or when the observation's memory (Lanczos bases,
// Gram matrices: observe_memory) is above the memory limit (--max-memory).
void check_observe(const Objective& objective, const Observables& what);

// n for a problem with residuals, else 0 (for the summary's method note).
long observed_residuals(const Objective& objective);

// The observation's part of the JSON summary: what was observed, how, its extremes along the recorded
// rows (flow/callbacks.hpp) and its work.
nlohmann::json observe_json(const Observables& what, const PathExtremes& extremes, const Stats& stats,
                            long num_residuals);

// The certified run (--certify with --observe ntk): the observed ntk_min along it against the certified
// lower bound (sigma0 - l r*)^2 = mu of the ball the run stays in (docs/theory.md §4.1, §8.1). Adds the
// numbers to the certificate's JSON and returns the report line.
std::string certificate_ntk_margin(double certified_mu, double observed_ntk_min, nlohmann::json& certificate);

}  // namespace gradflow::cli

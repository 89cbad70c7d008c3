// `gradflow certify`: the local PL certificate at theta0 (squared-loss problems), the smallest
// certified output scale of the positive initialization (--find-scale), or sampled estimates for
// problems without residual structure.
#pragma once

#include <gradflow/apps/common_options.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace gradflow::cli {

struct CertifyCommand {
  ProblemArgs problem;
  bool find_scale = false;
  double radius = 1.0;
  int samples = 200;
  std::string json;
  std::string config;
  bool quiet = false;

  CLI::App* command = nullptr;
};

void add_certify_command(CLI::App& app, CertifyCommand& certify);
int run_certify_command(CertifyCommand& certify);

}  // namespace gradflow::cli

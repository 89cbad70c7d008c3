// How the command line shows a certificate: a short report and a JSON object. Rigorous certificates
// and sampled estimates are labelled differently everywhere ("kind").
#pragma once

#include <gradflow/theory/certificate.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace gradflow::cli {

// A theta0 read from a file (theta0_path, the value of --theta0; empty: the command drew theta0 itself)
// where the loss is not a finite number (an overflow: least squares at 1e300) is bad input naming
// --theta0: no certificate can use it. A drawn theta0 is left to the certificate ("does not apply").
void check_certificate_theta0(const Objective& objective, const Vector& theta0, const std::string& theta0_path);

std::string certificate_report(const Certificate& certificate);
nlohmann::json certificate_json(const Certificate& certificate);
std::string estimate_report(const LocalEstimate& estimate);
nlohmann::json estimate_json(const LocalEstimate& estimate);

}  // namespace gradflow::cli

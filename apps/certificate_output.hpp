// How the command line shows a certificate: a short report and a JSON object. Rigorous certificates
// and sampled estimates are labelled differently everywhere ("kind").
#pragma once

#include <gradflow/theory/certificate.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace gradflow::cli {

std::string certificate_report(const Certificate& certificate);
nlohmann::json certificate_json(const Certificate& certificate);
std::string estimate_report(const LocalEstimate& estimate);
nlohmann::json estimate_json(const LocalEstimate& estimate);

}  // namespace gradflow::cli

#include <gradflow/core/status.hpp>

#include <gradflow/core/text.hpp>

namespace gradflow {
namespace {

constexpr NameTable<Status, 16> kNames{{{
    {Status::not_run, "not_run"},
    {Status::reached_end_time, "reached_end_time"},
    {Status::tolerance_reached, "tolerance_reached"},
    {Status::max_steps, "max_steps"},
    {Status::reached_max_iters, "reached_max_iters"},
    {Status::stopped_by_observer, "stopped_by_observer"},
    {Status::event_stop, "event_stop"},
    {Status::step_size_too_small, "step_size_too_small"},
    {Status::non_finite_value, "non_finite_value"},
    {Status::backend_error, "backend_error"},
    {Status::diverged, "diverged"},
    {Status::invalid_options, "invalid_options"},
    {Status::callback_error, "callback_error"},
    {Status::identity_violated, "identity_violated"},
    {Status::time_limit, "time_limit"},
    {Status::interrupted, "interrupted"},
}}};

}  // namespace

std::string_view to_string(Status status) { return kNames.name(status); }

std::optional<Status> status_from_string(std::string_view name) { return kNames.value(name); }

bool succeeded(Status status) {
  return status == Status::reached_end_time || status == Status::reached_max_iters ||
         status == Status::tolerance_reached || status == Status::stopped_by_observer || status == Status::event_stop;
}

}  // namespace gradflow

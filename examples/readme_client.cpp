#include <cstdio>
#include <gradflow/gradflow.hpp>
using namespace gradflow;
int main() {  // Powell's singular function: theta at t = 100, ..., 4900 and a stop located at L = 1e-9
  const FunctionObjective powell(4, [](ConstVectorView x, VectorView g) {
    const double a = x[0] + 10 * x[1], b = x[2] - x[3], c = x[1] - 2 * x[2], d = x[0] - x[3];
    g << a + 20 * d * d * d, 10 * a + 2 * c * c * c, 5 * b - 4 * c * c * c, -5 * b - 20 * d * d * d;
    return 0.5 * (a * a + 5 * b * b + c * c * c * c + 10 * d * d * d * d);
  });
  FlowOptions o{.t_end = 1e5, .rtol = 1e-10, .atol = 1e-14, .save = {.states = true}};
  for (int k = 1; k <= 49; ++k) o.save.times.push_back(100.0 * k);
  o.events = {{"L = 1e-9", [](double, ConstVectorView, const Row& row) { return row.loss - 1e-9; }}};
  const FlowResult r = simulate_flow(powell, Vector{{3.0, -1.0, 0.0, 1.0}}, o);
  std::printf("%s; %ld states\n", r.brief_report().c_str(), long(r.states.cols()));
}

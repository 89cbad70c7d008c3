// core/detail/kernels.cpp once more, without target clones and in a namespace of its own: the baseline
// x86-64 code that test_kernels.cpp compares with the clone the loader picked for this machine.
#define GRADFLOW_NO_CLONES
#define GRADFLOW_KERNELS_NAMESPACE gradflow_test::baseline_kernels
#include <gradflow/core/detail/kernels.cpp>

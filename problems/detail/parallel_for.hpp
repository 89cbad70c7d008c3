// A small pool of worker threads for the network's evaluations (problems/mlp.cpp): parallel_for runs
// the tasks 0 ... count - 1 of one evaluation on the calling thread and up to threads - 1 workers.
//
// Which thread runs which task is not fixed (the threads take the next task as they become free);
// a caller whose results must not depend on the thread count gives every task its own outputs.
//
// Waiting: a worker that has run out of tasks looks for new ones for a short while, yielding the
// processor between looks, and then sleeps until woken. Spinning alone (OpenMP's default) was measured
// to make a 2-thread evaluation 10 to 30 times slower than a 1-thread one on a machine whose cores were
// busy with other work; sleeping at once costs a wake-up (tens of microseconds) per parallel step.
//
// One evaluation at a time uses the pool: a second caller, on another thread, while the pool is busy
// runs its tasks alone on its own thread (the same results, since they do not depend on the thread count).
#pragma once

#include <functional>

namespace gradflow::detail {

// Runs task(i) for 0 <= i < count on up to `threads` threads (the caller is one of them) and returns
// when all have run. When a task throws, the tasks not yet started are skipped and the first exception
// is rethrown here.
void parallel_for(int threads, long count, const std::function<void(long)>& task);

// Starts the workers of a threads-thread job now and returns how many threads a job can use (the
// caller included, at least 1): fewer than asked when the system refuses to create a thread (a limit
// on processes or address space; the jobs then run on the threads there are, never std::terminate).
int prepare_parallel_for(int threads);

}  // namespace gradflow::detail

// Giving memory back to the operating system after a burst (a large request), where the C library
// keeps freed memory for reuse instead of returning it.
#pragma once

namespace hangar::core {

// Sets the allocator up for a long-running service: blocks of 128 KiB and more are mapped and
// unmapped on their own (glibc otherwise raises that threshold after the first large free, and
// keeps every later large buffer in its heaps), and at most four heaps. Does nothing elsewhere.
void tune_allocator_for_service();

// Returns free heap memory to the operating system (glibc's malloc_trim). Costs a walk over the
// heaps: call it after a large request, not after every one. Does nothing elsewhere.
void release_free_memory();

}  // namespace hangar::core

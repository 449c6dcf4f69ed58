// Allocator tuning and trimming for hangard (see memory.h). Only glibc needs it: the Windows heap
// decommits large free blocks by itself.
#include "hangar/core/memory.h"

#include <cstdlib>  // any C library header defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace hangar::core {

void tune_allocator_for_service() {
#if defined(__GLIBC__)
  // A fixed threshold also switches off glibc's dynamic one, which would grow to the size of the
  // largest buffer freed so far (an 8 MiB frame) and serve later ones from the heap for good.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  // One heap per thread (up to 8 per core) multiplies what fragmentation keeps; the IPC threads
  // mostly wait on sockets, so four heaps are plenty.
  mallopt(M_ARENA_MAX, 2);
#endif
}

// Under AddressSanitizer the sanitizer's allocator holds the memory, not glibc's, and glibc's
// malloc_trim called from several threads at once could trip glibc's own assertion at a thread's
// exit ("a->attached_threads > 0", seen in the ASan suite): nothing to trim there.
#if defined(__SANITIZE_ADDRESS__)
#define HANGAR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HANGAR_ASAN 1
#endif
#endif

void release_free_memory() {
#if defined(__GLIBC__) && !defined(HANGAR_ASAN)
  malloc_trim(0);
#endif
}

}  // namespace hangar::core

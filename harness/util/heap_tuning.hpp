#pragma once
// How the process's heap treats freed memory, set once at the start of main.
//
// glibc gives memory back to the kernel when more than 128 KiB at the top of the heap is free,
// and serves large requests with mmap. A simulated I/O allocates and frees buffers of its size
// (the SCSI_IO's data window, the disk's data-in, a verifier's copies), so at 512 KiB per I/O
// every buffer was page-faulted in again: a third of the wall time of 512 KiB I/O was the
// kernel zeroing pages (docs/performance.md). Freed memory now stays in the process up to
// 256 MiB at the heap's top, and only requests of 32 MiB or more (glibc's largest threshold) are
// mapped on their own. The heap keeps its high-water mark instead of shrinking behind a run.
#include <malloc.h>

namespace dexthil::util {

inline void keep_freed_heap_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace dexthil::util

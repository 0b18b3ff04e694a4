/*
 * A multi-megabyte array on 4 KiB pages costs a page fault and a zeroed page every 4 KiB on first
 * write; at a million points (x, y, their split, a 1001x1001 grid, the answer) those faults cost
 * more than the arithmetic. glibc maps such blocks with mmap, and on kernels whose transparent huge
 * pages are "madvise" (Debian's default) they come in 2 MiB pages only when asked for, before the
 * first write. Bits are unaffected: only where the memory comes from changes.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "gdlab/alloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *gd_alloc_large(size_t bytes)
{
    if (bytes < GD_HUGE_PAGE_MIN)
        return malloc(bytes);
    /* Aligned to a huge page and rounded up to whole ones: every page of the block can be huge
     * (with malloc's alignment the first and last 2 MiB went in 4 KiB pages, a fault each). */
    size_t rounded = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p;
    if (rounded < bytes || posix_memalign(&p, HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure leaves small pages */
#endif
    return p;
}

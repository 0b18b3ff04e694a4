/* Allocation of large arrays: multi-megabyte blocks on transparent huge pages. */
#ifndef GDLAB_ALLOC_H
#define GDLAB_ALLOC_H

#include <stddef.h>

/* Blocks from this size on ask for huge pages. */
#define GD_HUGE_PAGE_MIN ((size_t)4 << 20)

/* malloc(bytes), asking for transparent huge pages when bytes >= GD_HUGE_PAGE_MIN; free() it. */
void *gd_alloc_large(size_t bytes);

#endif

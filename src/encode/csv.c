#include "encode/csv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "encode/fmt_double.h"

void csv_raw(struct jw *w, const char *s, size_t n)
{
    if (!jw_reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void csv_double(struct jw *w, double v)
{
    if (!isfinite(v) || !jw_reserve(w, JW_FMT_DOUBLE_ROOM))
        return;
    w->len += jw_fmt_double(v, w->buf + w->len);
}

void csv_uint(struct jw *w, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    csv_raw(w, buf, (size_t)n);
}

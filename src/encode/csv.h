/* CSV bodies for spreadsheets and pandas, written into the same buffer type as JSON. */
#ifndef GDLAB_ENCODE_CSV_H
#define GDLAB_ENCODE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "encode/json_writer.h"

/* The media type of every CSV answer. */
#define CSV_CONTENT_TYPE "text/csv; charset=utf-8"

/* Raw bytes (a header line, a separator, a trusted label). */
void csv_raw(struct jw *w, const char *s, size_t n);

/* A double written exactly (shortest round trip); nothing for a non-finite value (an empty
 * field, which pandas reads as NaN). */
void csv_double(struct jw *w, double v);

/* An unsigned integer. */
void csv_uint(struct jw *w, uint64_t v);

#endif

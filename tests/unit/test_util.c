#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tu_data_dir = ".";

static void fail_load(const char *path, const char *why)
{
    fprintf(stderr, "test data %s: %s\n", path, why);
    exit(2);
}

struct tu_file *tu_load(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tu_data_dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_load(path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0)
        fail_load(path, "cannot seek");
    long size = ftell(fp);
    rewind(fp);
    struct tu_file *f = calloc(1, sizeof(*f));
    if (!f || size < 0 || !(f->text = malloc((size_t)size + 1)))
        fail_load(path, "out of memory");
    if (fread(f->text, 1, (size_t)size, fp) != (size_t)size)
        fail_load(path, "short read");
    fclose(fp);
    f->text[size] = '\0';

    size_t lines = 1;
    for (long i = 0; i < size; i++)
        lines += f->text[i] == '\n';
    f->rec = calloc(lines, sizeof(*f->rec));
    if (!f->rec)
        fail_load(path, "out of memory");
    char *save_line = NULL;
    for (char *line = strtok_r(f->text, "\n", &save_line); line;
         line = strtok_r(NULL, "\n", &save_line)) {
        if (line[0] == '#')
            continue;
        size_t nf = 0;
        for (char *p = line; *p; p++)
            nf += *p == ' ';
        struct tu_record *r = &f->rec[f->count];
        r->field = calloc(nf + 1, sizeof(*r->field));
        if (!r->field)
            fail_load(path, "out of memory");
        char *save_tok = NULL;
        r->kind = strtok_r(line, " ", &save_tok);
        if (!r->kind) {
            free(r->field);
            continue;
        }
        for (char *t = strtok_r(NULL, " ", &save_tok); t; t = strtok_r(NULL, " ", &save_tok))
            r->field[r->nfield++] = t;
        f->count++;
    }
    return f;
}

void tu_free(struct tu_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->rec[i].field);
    free(f->rec);
    free(f->text);
    free(f);
}

size_t tu_count(const struct tu_file *f, const char *kind)
{
    size_t c = 0;
    for (size_t i = 0; i < f->count; i++)
        c += strcmp(f->rec[i].kind, kind) == 0;
    return c;
}

size_t tu_find(const struct tu_file *f, const char *kind, size_t k)
{
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->rec[i].kind, kind) == 0 && k-- == 0)
            return i;
    return f->count;
}

double tu_double(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0') {
        fprintf(stderr, "bad double field '%s'\n", s);
        exit(2);
    }
    return v;
}

uint64_t tu_u64(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "bad integer field '%s'\n", s);
        exit(2);
    }
    return (uint64_t)v;
}

void tu_doubles(const struct tu_record *r, size_t first, double *out, size_t n)
{
    ck_assert_msg(first + n <= r->nfield, "record '%s' has %zu fields, want %zu", r->kind,
                  r->nfield, first + n);
    for (size_t i = 0; i < n; i++)
        out[i] = tu_double(r->field[first + i]);
}

bool tu_close(double got, double want, double rel, double abs)
{
    if (tu_same_bits(got, want))
        return true;
    double diff = got - want;
    return (diff < 0 ? -diff : diff) <= rel * (want < 0 ? -want : want) + abs;
}

bool tu_same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

struct gd_moments tu_small_moments(void)
{
    return (struct gd_moments){.n = 2,
                               .x_mean = 0.5,
                               .y_mean = 2,
                               .cxx = 0.25,
                               .cxy = 0.5,
                               .cyy = 1.01,
                               .w_opt = 2,
                               .loss_opt = 0.01};
}

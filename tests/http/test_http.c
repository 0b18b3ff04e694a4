/*
 * The HTTP adapter's rules that are plain functions of header values, in-process and driven by
 * cases.json: Accept negotiation, Accept-Encoding, JSON media types, If-None-Match matching and
 * the gzip variant's tag, request framing, and which static paths may be served. No server, no
 * socket. argv[1] is the directory holding cases.json.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/etag.h"
#include "http/framing.h"
#include "http/internal.h"
#include "http/negotiate.h"
#include "http/static_files.h"

#ifndef GDLAB_HTTP_TEST_DIR
#define GDLAB_HTTP_TEST_DIR "."
#endif

static json_t *cases;

/* Case i of a section of cases.json. */
static const json_t *case_at(const char *section, int i)
{
    const json_t *c = json_array_get(json_object_get(cases, section), (size_t)i);
    ck_assert_msg(json_is_object(c), "%s[%d] is not an object", section, i);
    return c;
}

/* A string member, NULL when it is null or absent. */
static const char *str(const json_t *c, const char *key)
{
    return json_string_value(json_object_get(c, key));
}

/* A boolean member that must be there. */
static bool flag(const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);
    ck_assert_msg(json_is_boolean(v), "a case lacks the boolean \"%s\"", key);
    return json_is_true(v);
}

/* ---- negotiation ---------------------------------------------------------------------------- */

START_TEST(accept_case)
{
    const json_t *c = case_at("accept", _i);
    const char *accept = str(c, "accept");
    const char *range;
    const json_t *want;
    json_object_foreach((json_t *)json_object_get(c, "q"), range, want)
    {
        char type[64];
        const char *slash = strchr(range, '/');
        ck_assert_msg(slash && (size_t)(slash - range) < sizeof(type), "bad range '%s'", range);
        memcpy(type, range, (size_t)(slash - range));
        type[slash - range] = '\0';
        double q = http_accept_q(accept, type, slash + 1);
        ck_assert_msg(q == json_number_value(want), "Accept '%s': q(%s) = %g, want %g", accept,
                      range, q, json_number_value(want));
    }
    ck_assert_msg(http_accept_prefers_csv(accept) == flag(c, "csv"),
                  "Accept '%s': prefers CSV is %d, want %d", accept ? accept : "(none)",
                  !flag(c, "csv"), flag(c, "csv"));
    ck_assert_msg(http_accept_prefers_html(accept) == flag(c, "html"),
                  "Accept '%s': prefers HTML is %d, want %d", accept ? accept : "(none)",
                  !flag(c, "html"), flag(c, "html"));
}
END_TEST

START_TEST(gzip_case)
{
    const json_t *c = case_at("gzip", _i);
    const char *ae = str(c, "accept_encoding");
    bool want = flag(c, "gzip");
    ck_assert_msg(http_gzip_accepted(ae) == want, "Accept-Encoding '%s': gzip accepted is %d",
                  ae ? ae : "(none)", !want);
}
END_TEST

START_TEST(json_media_type_case)
{
    const json_t *c = case_at("json_media_type", _i);
    const char *ct = str(c, "content_type");
    bool want = flag(c, "json");
    ck_assert_msg(http_is_json_media_type(ct) == want, "Content-Type '%s': JSON is %d",
                  ct ? ct : "(none)", !want);
}
END_TEST

/* ---- entity tags ---------------------------------------------------------------------------- */

START_TEST(etag_case)
{
    const json_t *c = case_at("etag", _i);
    const char *inm = str(c, "if_none_match"), *etag = str(c, "etag");
    bool want = flag(c, "match");
    ck_assert_ptr_nonnull(etag);
    ck_assert_msg(http_etag_matches(inm, etag) == want,
                  "If-None-Match '%s', ETag '%s': match is %d", inm ? inm : "(none)", etag, !want);
}
END_TEST

START_TEST(etag_suffix_case)
{
    const json_t *c = case_at("etag_suffix", _i);
    const char *etag = str(c, "etag"), *suffix = str(c, "suffix"), *want = str(c, "want");
    ck_assert(etag && suffix && want && strlen(etag) < HTTP_ETAG_MAX);
    char buf[HTTP_ETAG_MAX];
    memcpy(buf, etag, strlen(etag) + 1);
    http_etag_add_suffix(buf, suffix);
    ck_assert_msg(strcmp(buf, want) == 0, "'%s' + '%s' = '%s', want '%s'", etag, suffix, buf, want);
}
END_TEST

/* A tag made by the hasher has the documented shape, and another suffix makes another tag. */
START_TEST(etag_final_shape)
{
    struct http_etag_hasher h;
    http_etag_init(&h);
    http_etag_update_str(&h, "/train");
    char plain[HTTP_ETAG_MAX], gz[HTTP_ETAG_MAX], added[HTTP_ETAG_MAX];
    http_etag_final(&h, "", plain);
    http_etag_final(&h, "-gz", gz);
    ck_assert_uint_eq(strlen(plain), 34);
    ck_assert(plain[0] == '"' && plain[33] == '"');
    ck_assert_uint_eq(strspn(plain + 1, "0123456789abcdef"), 32);
    memcpy(added, plain, sizeof(plain));
    http_etag_add_suffix(added, "-gz");
    ck_assert_str_eq(gz, added);
    ck_assert(http_etag_matches(plain, plain) && !http_etag_matches(plain, gz));
}
END_TEST

/* ---- framing -------------------------------------------------------------------------------- */

START_TEST(framing_case)
{
    const json_t *c = case_at("framing", _i);
    struct http_framing f = {.http11 = flag(c, "http11"), .post = flag(c, "post")};
    char head[512];
    int len = snprintf(head, sizeof(head), "%s HTTP/1.%d:", f.post ? "POST" : "GET", f.http11);
    const json_t *headers = json_object_get(c, "headers"), *h;
    size_t k;
    ck_assert(json_is_array(headers));
    json_array_foreach(headers, k, h)
    {
        const char *name = json_string_value(json_array_get(h, 0));
        const char *value = json_string_value(json_array_get(h, 1));
        ck_assert(name && value);
        http_framing_add(&f, name, value);
        if (len > 0 && (size_t)len < sizeof(head))
            len += snprintf(head + len, sizeof(head) - (size_t)len, " [%s: %s]", name, value);
    }
    char buf[160];
    const char *why = http_framing_problem(&f, buf, sizeof(buf));
    const char *want = str(c, "problem");
    if (!want)
        ck_assert_msg(why == NULL, "%s: refused (%s), want accepted", head, why);
    else
        ck_assert_msg(why && strstr(why, want), "%s: %s, want a reason with '%s'", head,
                      why ? why : "accepted", want);
}
END_TEST

/* ---- static paths --------------------------------------------------------------------------- */

START_TEST(static_path_case)
{
    const json_t *c = case_at("static_path", _i);
    const char *path = str(c, "path");
    bool want = flag(c, "safe");
    ck_assert_ptr_nonnull(path);
    ck_assert_msg(http_static_path_safe(path) == want, "path '%s': safe is %d, want %d", path,
                  !want, want);
}
END_TEST

/* ---- query decoding ---------------------------------------------------------------------------
 */

START_TEST(unescape_case)
{
    const json_t *c = case_at("unescape", _i);
    const char *in = str(c, "in"), *want = str(c, "out");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(want);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", in);
    size_t n = http_unescape(NULL, NULL, buf);
    ck_assert_msg(n == strlen(want) && strcmp(buf, want) == 0, "'%s' decodes to '%s', want '%s'",
                  in, buf, want);
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------------ */

/* Add a loop test over a section, which must not be empty. */
static void add_section(TCase *tc, const TTest *test, const char *section)
{
    int n = (int)json_array_size(json_object_get(cases, section));
    if (n == 0) {
        fprintf(stderr, "test_http: cases.json has no \"%s\" cases\n", section);
        exit(2);
    }
    printf("  %3d %s\n", n, section);
    tcase_add_loop_test(tc, test, 0, n);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : GDLAB_HTTP_TEST_DIR;
    char path[4096];
    json_error_t err;
    snprintf(path, sizeof(path), "%s/cases.json", dir);
    cases = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!cases) {
        fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
        return 2;
    }

    printf("%s:\n", path);
    Suite *s = suite_create("http_rules");
    TCase *negotiate = tcase_create("negotiate");
    add_section(negotiate, accept_case, "accept");
    add_section(negotiate, gzip_case, "gzip");
    add_section(negotiate, json_media_type_case, "json_media_type");
    suite_add_tcase(s, negotiate);
    TCase *etag = tcase_create("etag");
    add_section(etag, etag_case, "etag");
    add_section(etag, etag_suffix_case, "etag_suffix");
    tcase_add_test(etag, etag_final_shape);
    suite_add_tcase(s, etag);
    TCase *framing = tcase_create("framing");
    add_section(framing, framing_case, "framing");
    suite_add_tcase(s, framing);
    TCase *paths = tcase_create("static_path");
    add_section(paths, static_path_case, "static_path");
    suite_add_tcase(s, paths);
    TCase *unescape = tcase_create("unescape");
    add_section(unescape, unescape_case, "unescape");
    suite_add_tcase(s, unescape);
    fflush(stdout);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(cases);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

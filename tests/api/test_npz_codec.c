/*
 * The npz encoder and decoder in-process (src/encode/npz.c, the JSON writer's npz mode) and
 * SHA-256: numpy's exact npy header, member names from the JSON path, params.json and answer.json,
 * a round trip through the strict reader, and the reader on every truncation and every one-byte
 * corruption of a valid archive (refused, or read to the same values: never a crash or a wrong
 * answer). Byte-level agreement with numpy itself is tests/api/test_npz.py's.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "encode/json_writer.h"
#include "encode/npz.h"
#include "encode/sha256.h"

/* The archive of a writer in npz mode after the calls of a small answer. */
static char *small_answer(size_t *len)
{
    static const double b[3] = {0.5, -1.25, 3.0};
    static const double m[6] = {1, 2, 3, 4, 5, 6};
    static const uint64_t epochs[2] = {0, 7};
    struct jw w;
    jw_init(&w, 0);
    ck_assert(jw_npz_begin(&w));
    jw_object_begin(&w);
    jw_key(&w, "params");
    jw_object_begin(&w);
    jw_key_uint(&w, "seed", 42);
    jw_key(&w, "lr");
    jw_double_array(&w, b, 1);
    jw_object_end(&w);
    jw_key(&w, "b");
    jw_double_array(&w, b, 3);
    jw_key(&w, "loss");
    jw_double_matrix(&w, m, 2, 3);
    jw_key(&w, "runs");
    jw_array_begin(&w);
    for (int k = 0; k < 2; k++) {
        jw_object_begin(&w);
        jw_key_double(&w, "lr", 0.1 * (k + 1));
        jw_key(&w, "history");
        jw_object_begin(&w);
        jw_key(&w, "epoch");
        jw_uint64_array(&w, epochs, 2);
        jw_object_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key_string(&w, "status", "ok");
    jw_object_end(&w);
    ck_assert(jw_npz_finish(&w));
    char *buf = jw_take(&w, len);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

/* The bytes of member name in an archive of ours (found by its local header), or NULL. */
static const char *member(const char *zip, size_t len, const char *name, size_t *size)
{
    const unsigned char *z = (const unsigned char *)zip;
    size_t at = 0, name_len = strlen(name);
    while (at + 30 <= len && z[at] == 'P' && z[at + 1] == 'K' && z[at + 2] == 3) {
        size_t sz =
            z[at + 18] | z[at + 19] << 8 | (size_t)z[at + 20] << 16 | (size_t)z[at + 21] << 24;
        size_t nl = z[at + 26] | z[at + 27] << 8, el = z[at + 28] | z[at + 29] << 8;
        if (nl == name_len && memcmp(zip + at + 30, name, nl) == 0) {
            *size = sz;
            return zip + at + 30 + nl + el;
        }
        at += 30 + nl + el + sz;
    }
    return NULL;
}

START_TEST(members_named_by_path)
{
    size_t len, size;
    char *zip = small_answer(&len);
    static const char *const names[] = {
        "b.npy",       "loss.npy",   "runs.0.history.epoch.npy", "runs.1.history.epoch.npy",
        "params.json", "answer.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(member(zip, len, names[i], &size) != NULL, "no member %s", names[i]);
    const char *p = member(zip, len, "params.json", &size);
    ck_assert_int_eq(size, strlen("{\"seed\":42,\"lr\":[0.5]}"));
    ck_assert(memcmp(p, "{\"seed\":42,\"lr\":[0.5]}", size) == 0);
    p = member(zip, len, "answer.json", &size);
    static const char answer[] =
        "{\"runs\":[{\"lr\":0.1,\"history\":{}},{\"lr\":0.2,\"history\":{}}],\"status\":\"ok\"}";
    ck_assert_int_eq(size, strlen(answer));
    ck_assert(memcmp(p, answer, size) == 0);
    ck_assert_ptr_null(member(zip, len, "params.lr.npy", &size));
    free(zip);
}
END_TEST

START_TEST(npy_header_is_numpys)
{
    size_t len, size;
    char *zip = small_answer(&len);
    /* numpy.lib.format.write_array(f, np.zeros(3), version=(1, 0)): 128 bytes of header */
    const char *b = member(zip, len, "b.npy", &size);
    ck_assert_int_eq(size, 128 + 3 * 8);
    static const char dict[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    ck_assert(memcmp(b, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
    ck_assert(memcmp(b + 10, dict, strlen(dict)) == 0);
    for (size_t k = 10 + strlen(dict); k < 127; k++)
        ck_assert_int_eq(b[k], ' ');
    ck_assert_int_eq(b[127], '\n');
    double v;
    memcpy(&v, b + 128 + 8, sizeof(v));
    ck_assert(v == -1.25);
    const char *m = member(zip, len, "loss.npy", &size);
    static const char mdict[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    ck_assert(memcmp(m + 10, mdict, strlen(mdict)) == 0);
    const char *e = member(zip, len, "runs.1.history.epoch.npy", &size);
    ck_assert(memcmp(e + 10, "{'descr': '<u8',", 16) == 0);
    free(zip);
}
END_TEST

/* An archive of x.npy and y.npy, as the writer makes it. */
static char *xy_archive(const double *x, size_t nx, const double *y, size_t ny, size_t *len)
{
    struct npz_writer z;
    npz_writer_init(&z);
    size_t shape[2] = {nx, 0};
    double *o = npz_array_begin(&z, "x", "<f8", 1, shape, nx * sizeof(double));
    ck_assert_ptr_nonnull(o);
    memcpy(o, x, nx * sizeof(double));
    npz_member_end(&z);
    shape[0] = ny;
    o = npz_array_begin(&z, "y", "<f8", 1, shape, ny * sizeof(double));
    ck_assert_ptr_nonnull(o);
    memcpy(o, y, ny * sizeof(double));
    npz_member_end(&z);
    char *buf = npz_writer_take(&z, len);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

static const char *const xy[] = {"x", "y"};

START_TEST(round_trip)
{
    double x[5] = {1, 2.5, -3, 1e300, 5e-324}, y[5] = {0, -0.0, 7, 8, 9};
    size_t len, n[2];
    char *zip = xy_archive(x, 5, y, 5, &len);
    double *v[2];
    char err[256];
    int which;
    ck_assert_int_eq(npz_read_f8(zip, len, xy, 2, v, n, err, sizeof(err), &which), 0);
    ck_assert_int_eq(n[0], 5);
    ck_assert_int_eq(n[1], 5);
    ck_assert(memcmp(v[0], x, sizeof(x)) == 0 && memcmp(v[1], y, sizeof(y)) == 0);
    free(v[0]);
    free(v[1]);
    /* the reader names a missing member */
    const char *const xyz[] = {"x", "y", "z"};
    double *w[3];
    size_t m[3];
    ck_assert_int_eq(npz_read_f8(zip, len, xyz, 3, w, m, err, sizeof(err), &which), -1);
    ck_assert_int_eq(which, 2);
    ck_assert_ptr_nonnull(strstr(err, "z.npy"));
    free(zip);
}
END_TEST

/* Every prefix of a valid archive is refused; every one-byte change is refused or reads the same
 * values. */
START_TEST(truncated_and_corrupted)
{
    double x[4] = {1, 2, 3, 4}, y[4] = {5, 6, 7, 8};
    size_t len, n[2];
    char *zip = xy_archive(x, 4, y, 4, &len);
    double *v[2];
    char err[256];
    int which;
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any overread */
        memcpy(copy, zip, cut);
        ck_assert_msg(npz_read_f8(copy, cut, xy, 2, v, n, err, sizeof(err), &which) == -1,
                      "a prefix of %zu bytes was read", cut);
        free(copy);
    }
    for (size_t at = 0; at < len; at++) {
        for (int bit = 0; bit < 8; bit += 7) {
            char *copy = malloc(len);
            memcpy(copy, zip, len);
            copy[at] ^= (char)(1 << bit);
            if (npz_read_f8(copy, len, xy, 2, v, n, err, sizeof(err), &which) == 0) {
                ck_assert_msg(n[0] == 4 && n[1] == 4 && memcmp(v[0], x, sizeof(x)) == 0 &&
                                  memcmp(v[1], y, sizeof(y)) == 0,
                              "byte %zu changed, the values read changed", at);
                free(v[0]);
                free(v[1]);
            }
            free(copy);
        }
    }
    free(zip);
}
END_TEST

START_TEST(sha256_vectors)
{
    /* FIPS 180-4's examples, and a message that needs a second padding block */
    char hex[SHA256_HEX];
    sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two, strlen(two), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a's, fed in uneven pieces */
    struct sha256 s;
    unsigned char d[SHA256_BYTES];
    char a[997];
    memset(a, 'a', sizeof(a));
    sha256_init(&s);
    size_t left = 1000000;
    for (size_t piece = 1; left; piece = piece % 980 + 13) {
        size_t k = piece < left ? piece : left;
        sha256_update(&s, a, k);
        left -= k;
    }
    sha256_final(&s, d);
    static const unsigned char want[SHA256_BYTES] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
        0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
        0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    ck_assert(memcmp(d, want, SHA256_BYTES) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("npz");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, members_named_by_path);
    tcase_add_test(tc, npy_header_is_numpys);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, truncated_and_corrupted);
    tcase_add_test(tc, sha256_vectors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

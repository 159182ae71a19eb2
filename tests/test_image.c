/* test_image.c — the PNG chunk layout, PGM bytes, strip composition, and the images that
 * tests/test_image.sh then decodes with Python (zlib + struct, PIL and scikit-image):
 * $BUILD/tests/test_image_{small,big}.png and test_image_small.pgm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "image.h"
#include "test.h"

/* The pattern test_image.sh expects too: v(x, y) = (3x + 5y + (x*y mod 7)) mod 256. */
static uint8_t *pattern(int64_t w, int64_t h) {
    uint8_t *p = rr_malloc((size_t)(w * h));
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) p[y * w + x] = (uint8_t)((3 * x + 5 * y + (x * y) % 7) % 256);
    return p;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* The chunk layout of a written PNG (PNG spec, "Chunk layout"); the pixels are checked by
 * tests/test_image.sh with decoders of its own. */
static void test_png_layout(const char *dir) {
    char path[512];
    const int64_t w = 300, h = 250;
    uint8_t *img = pattern(w, h);
    snprintf(path, sizeof path, "%s/test_image_big.png", dir);
    CHECK(png_write_gray8(path, img, w, h) == 0, "writes %s", path);
    char *f;
    size_t n;
    if (rr_read_file(path, &f, &n)) {
        CHECK(0, "reads %s back", path);
        free(img);
        return;
    }
    const uint8_t *b = (const uint8_t *)f;
    CHECK(n > 8 + 25 + 12 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8), "PNG signature");
    CHECK(be32(b + 8) == 13 && !memcmp(b + 12, "IHDR", 4) && be32(b + 16) == 300 && be32(b + 20) == 250 &&
              b[24] == 8 && b[25] == 0 && b[26] == 0 && b[27] == 0 && b[28] == 0,
          "IHDR: 300 x 250, depth 8, gray, deflate, filter method 0, no interlace");
    size_t pos = 33, idat = 0, chunks_ok = 1;
    while (pos + 12 <= n && memcmp(b + pos + 4, "IEND", 4)) { /* walk the chunks up to IEND */
        if (!memcmp(b + pos + 4, "IDAT", 4)) idat += be32(b + pos);
        if (be32(b + pos) > n - pos - 12) chunks_ok = 0;
        pos += 12 + (chunks_ok ? be32(b + pos) : n);
    }
    CHECK(chunks_ok && pos + 12 == n && !memcmp(b + pos, "\0\0\0\0IEND\xAE\x42\x60\x82", 12),
          "chunks lie inside the file and it ends with the standard IEND chunk");
    CHECK(idat > 0 && idat < (size_t)(h * (w + 1)), "IDAT holds %zu compressed bytes, fewer than the %lld raw",
          idat, (long long)(h * (w + 1)));
    free(f);
    free(img);

    img = pattern(5, 3);
    snprintf(path, sizeof path, "%s/test_image_small.png", dir);
    CHECK(image_write_gray8(path, img, 5, 3) == 0, "writes %s", path);
    snprintf(path, sizeof path, "%s/test_image_small.pgm", dir);
    CHECK(image_write_gray8(path, img, 5, 3) == 0, "writes %s (PGM by extension)", path);
    if (!rr_read_file(path, &f, &n)) {
        CHECK(n == 11 + 15 && !memcmp(f, "P5\n5 3\n255\n", 11) && !memcmp(f + 11, img, 15),
              "PGM is 'P5\\n5 3\\n255\\n' and the 15 bytes");
        free(f);
    }
    CHECK(png_write_gray8("/nonexistent-dir/x.png", img, 5, 3) == -1, "unwritable path fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "/nonexistent-dir/x.png", "error names the path");
    CHECK(png_write_gray8("zero.png", img, 0, 3) == -1, "zero width fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "zero.png: bad image size 0 x 3", "error names the file and size");
    free(img);
}

static void test_strip(void) {
    /* A: uint8 (T=4, N=2, H=3, W=2); B: float32 (T=2, N=2, 3, 2) with out-of-range values and NaN. */
    uint8_t a[4 * 2 * 3 * 2];
    for (int i = 0; i < 48; i++) a[i] = (uint8_t)(10 + i);
    float bf[2 * 2 * 3 * 2];
    for (int i = 0; i < 24; i++) bf[i] = 0.25f;
    /* sequence 1 of B, frame 0: pixels (y, x) -> index ((0*2 + 1)*3 + y)*2 + x = 6 + 2y + x */
    bf[6] = -0.5f, bf[7] = 1.5f, bf[8] = NAN, bf[9] = 0.5f, bf[10] = 0.2f, bf[11] = 1.0f;
    StripInput in[2] = {{"a.npy", NPY_U8, 4, 2, 3, 2, a}, {"b.npy", NPY_F32, 2, 2, 3, 2, bf}};
    int64_t seq = 1, w, h;
    uint8_t *px;
    CHECK(strip_compose(in, 2, &seq, 1, 2, &px, &w, &h) == 0, "composes a 2-row strip, scale 2");
    /* width: border 2 + 4 cells of (2*2 + 2); height: 2 + 2 rows of (3*2 + 2) */
    CHECK(w == 2 + 4 * 6 && h == 2 + 2 * 8, "strip is 26 x 18 (got %lld x %lld)", (long long)w, (long long)h);
    if (w != 26 || h != 18) return;
    int ok_a = 1, ok_b = 1, ok_gray = 1;
    for (int t = 0; t < 4; t++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 4; x++) /* row 0 at y0 = 2, frame t at x0 = 2 + 6t; source (y/2, x/2) */
                ok_a &= px[(2 + y) * w + 2 + 6 * t + x] == a[((t * 2 + 1) * 3 + y / 2) * 2 + x / 2];
    const uint8_t want_b0[6] = {0, 255, 0, 128, 51, 255}; /* clip, NaN -> 0, round(127.5) = 128, 0.2*255 = 51 */
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 4; x++) { /* row 1 at y0 = 10; B's 2 frames right-aligned into slots 2, 3 */
            ok_b &= px[(10 + y) * w + 2 + 6 * 2 + x] == want_b0[(y / 2) * 2 + x / 2];
            ok_b &= px[(10 + y) * w + 2 + 6 * 3 + x] == 64; /* 0.25 * 255 = 63.75 -> 64 */
            ok_gray &= px[(10 + y) * w + 2 + x] == STRIP_GRAY && px[(10 + y) * w + 8 + x] == STRIP_GRAY;
        }
    for (int x = 0; x < w; x++) ok_gray &= px[x] == STRIP_GRAY && px[w + x] == STRIP_GRAY && px[8 * w + x] == STRIP_GRAY;
    CHECK(ok_a, "row 0 shows A's 4 frames of sequence 1, each pixel repeated 2x2");
    CHECK(ok_b, "row 1 shows B's 2 frames under A's frames 3-4, floats clipped/rounded (-0.5,1.5,NaN,0.5,0.2 -> 0,255,0,128,51)");
    CHECK(ok_gray, "borders, separators and the empty cells left of B are gray %d", STRIP_GRAY);
    free(px);

    int64_t seqs[2] = {0, 1};
    CHECK(strip_compose(in, 2, seqs, 2, 1, &px, &w, &h) == 0, "composes 2 sequences x 2 rows");
    CHECK(w == 2 + 4 * 4 && h == 2 + 4 * 5 + (STRIP_GROUP_SEP - STRIP_SEP), "strip is 18 x %d (got %lld x %lld)",
          2 + 20 + STRIP_GROUP_SEP - STRIP_SEP, (long long)w, (long long)h);
    /* group 1 row 0 (A, sequence 1) starts at y = 2 + 2*5 + 4 = 16 */
    int ok_g = 1;
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 2; x++) ok_g &= px[(16 + y) * w + 2 + x] == a[((0 * 2 + 1) * 3 + y) * 2 + x];
    CHECK(ok_g, "second group starts after the wider group gap with sequence 1");
    free(px);

    StripInput bad[2] = {in[0], {"c.npy", NPY_U8, 4, 2, 4, 2, a}};
    CHECK(strip_compose(bad, 2, &seq, 1, 1, &px, &w, &h) == -1, "different frame sizes fail");
    CHECK_ERR_CONTAINS(rr_last_error(), "c.npy: frames are 4x2 but a.npy has 3x2", "error names both files");
    seq = 2;
    CHECK(strip_compose(in, 2, &seq, 1, 1, &px, &w, &h) == -1, "sequence 2 of N=2 fails");
    CHECK_ERR_CONTAINS(rr_last_error(), "a.npy: sequence 2 out of range (N = 2)", "error names the file");
}

int main(void) {
    TEST_BEGIN("image");
    const char *build = getenv("BUILD");
    char dir[400];
    snprintf(dir, sizeof dir, "%s/tests", build && *build ? build : "build");
    if (rr_mkdir_p(dir)) printf("    %s\n", rr_last_error());
    test_png_layout(dir);
    test_strip();
    return tests_exit();
}

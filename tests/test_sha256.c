/* test_sha256.c — SHA-256 (nettle, through sha256.h) against the FIPS 180-4 / NIST example digests (fed whole and in uneven
 * pieces, so the block-buffering path is covered), and the sidecar cache of sha256_file_cached:
 * a hit only while size, mtime, ctime, device and inode all match; a forged or stale entry is ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "sha256.h"
#include "test.h"

static void digest_of(const void *p, size_t n, size_t piece, char hex[65]) {
    Sha256 s;
    unsigned char d[32];
    sha256_begin(&s);
    const unsigned char *c = p;
    for (size_t off = 0; off < n; off += piece) sha256_add(&s, c + off, n - off < piece ? n - off : piece);
    sha256_end(&s, d, hex);
}

int main(void) {
    TEST_BEGIN("sha256");
    static const struct {
        const char *what, *msg, *hex;
    } kat[] = {
        {"empty message", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"\"abc\"", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"448-bit message (padding spills into a second block)",
         "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"896-bit message",
         "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof kat / sizeof *kat; i++) {
        char whole[65], pieces[65];
        digest_of(kat[i].msg, strlen(kat[i].msg), strlen(kat[i].msg) + 1, whole);
        digest_of(kat[i].msg, strlen(kat[i].msg), 7, pieces);
        CHECK(!strcmp(whole, kat[i].hex) && !strcmp(pieces, kat[i].hex), "NIST digest of the %s (got %s)", kat[i].what,
              whole);
    }
    const size_t mil = 1000000;
    char *a = malloc(mil), hex[65];
    memset(a, 'a', mil);
    digest_of(a, mil, 4093, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "NIST digest of one million 'a' in 4093-byte pieces (got %s)", hex);

    /* the file and its sidecar cache */
    char dir[] = "/tmp/rnnreg_sha256_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return tests_exit();
    }
    char path[256], side[300];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    snprintf(side, sizeof side, "%s.sha256", path);
    rr_write_file_atomic(path, a, mil);
    /* only a file whose last change is over 2 s old is cached: the first hash of the fresh file is
     * not, the one after waiting is */
    char h1[65] = "", h2[65] = "", h3[65] = "";
    int cached = -1;
    int rc = sha256_file_cached(path, h1, &cached);
    CHECK(rc == 0 && !cached && !strcmp(h1, hex) && access(side, F_OK) != 0,
          "a file changed under 2 s ago is hashed (%s) and not cached", h1);
    sleep(3);
    rc = sha256_file_cached(path, h2, &cached);
    CHECK(rc == 0 && !cached && !strcmp(h2, hex) && access(side, F_OK) == 0, "an older file is hashed and the sidecar written");
    rc = sha256_file_cached(path, h3, &cached);
    CHECK(rc == 0 && cached == 1 && !strcmp(h3, hex), "the second call is answered by the sidecar");
    /* a forged sidecar for the same stat would be believed — but any change of the file changes
     * its ctime: rewrite one byte in place */
    FILE *fp = fopen(path, "r+b");
    fputc('b', fp);
    fclose(fp);
    char want[65];
    a[0] = 'b';
    digest_of(a, mil, mil, want);
    rc = sha256_file_cached(path, h3, &cached);
    CHECK(rc == 0 && !cached && !strcmp(h3, want), "after an in-place rewrite the stale sidecar is ignored (%s)", h3);
    CHECK(sha256_file(dir, h3) != 0 && strstr(rr_last_error(), "not a regular file"),
          "a directory is refused: %s", rr_last_error());
    unlink(side);
    unlink(path);
    rmdir(dir);
    free(a);
    return tests_exit();
}

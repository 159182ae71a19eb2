/* image.h — grayscale image output (8-bit PNG through libpng, Debian libpng-dev; binary PGM written
 * by hand: netpbm pgm(5)) and the picture strips of `rnnreg strip`. */
#ifndef RNNREG_IMAGE_H
#define RNNREG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"

/* Write a width × height 8-bit grayscale image (row-major, pixels[y*width + x]) atomically (a temp
 * file renamed onto path when complete).
 * png_write_gray8: colour type 0, bit depth 8, no interlace, libpng's default filters and deflate.
 * pgm_write_gray8: "P5\n<w> <h>\n255\n" then the bytes.
 * image_write_gray8: PGM when path ends in ".pgm", PNG otherwise. Errors name the path. */
int png_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height);
int pgm_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height);
int image_write_gray8(const char *path, const uint8_t *pixels, int64_t width, int64_t height);

/* One row source of a strip: a (T, N, H, W) array (uint8, or float32 shown as round(255*clip(v, 0, 1)),
 * NaN as 0). name is used in error lines. */
typedef struct {
    const char *name;
    NpyDtype dtype;
    int64_t T, N, H, W;
    const void *data;
} StripInput;

#define STRIP_SEP 2        /* separator / border width in pixels */
#define STRIP_GROUP_SEP 6  /* gap between the row groups of two sequences */
#define STRIP_GRAY 128     /* separator and empty-cell value */

/* Compose a strip: for each sequence in seqs (a group), one row per input showing its T frames of
 * that sequence, rows right-aligned to the longest T (a 10-frame prediction sits under frames 11–20
 * of a 20-frame truth row), frames upscaled by `scale` (nearest neighbour), STRIP_SEP-pixel gray
 * separators and border, STRIP_GROUP_SEP between groups. Every input must have the same H and W.
 * On success *pixels is malloc'd (caller frees) with size *width × *height. */
int strip_compose(const StripInput *inputs, int n_inputs, const int64_t *seqs, int n_seqs, int scale,
                  uint8_t **pixels, int64_t *width, int64_t *height);

#endif

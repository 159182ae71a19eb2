#!/usr/bin/env bash
# test_bare.sh — `make test-bare`: proves the README's commands work on a bare Debian 12. It builds once
# (and caches outside the repository) a `debootstrap --variant=minbase` bookworm image holding only
# minbase + make, git, ca-certificates; then, for each README command, unpacks a fresh chroot from it,
# `git clone`s this repository's HEAD commit into it (uncommitted changes are NOT tested) and runs the
# command exactly as the README writes it: `make test`, then `make reproduce SCALE=tiny`. The targets
# themselves must install every package they need (tools/deps.sh). Prints how long each stage took and
# ends with one line "test-bare: PASS ..." or "test-bare: FAIL ..."; the exit status is non-zero on
# failure.
#
# Usage: tools/test_bare.sh [test|reproduce-tiny|--run 'COMMAND']...   (default: test reproduce-tiny;
#        needs root; installs debootstrap and zstd). --run runs any command the same way (e.g. a check
#        that starts from other packages: --run 'apt-get update -q && apt-get install -y libblas-dev && make').
# Environment:
#   BARE_CACHE   the cached image (default /var/cache/rnnreg/bare-bookworm.tar.zst; delete it to rebuild)
#   BARE_MIRROR  the Debian mirror (default: the first URIs of /etc/apt/sources.list.d/debian.sources,
#                else http://deb.debian.org/debian)
#   BARE_DEBS    a folder of downloaded .deb files shared by the chroots' apt-get (default
#                /var/cache/rnnreg/bare-apt-archives): packages are still installed in every fresh
#                chroot, only not downloaded again. BARE_DEBS= (empty) downloads each time.
#   BARE_WORK    where the chroots are unpacked (default /var/tmp); BARE_KEEP=1 keeps them.
# The host's /etc/resolv.conf and locally added CA certificates (/usr/local/share/ca-certificates) are
# copied in: network set-up, not project packages.
# The mounts (/proc, /sys, /dev, /dev/pts, /dev/shm) are made in a private mount namespace (unshare -m),
# so they vanish with it even after kill -9; a trap also unmounts them, and nothing is deleted while
# anything is mounted below the chroot.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)

BARE_CACHE=${BARE_CACHE:-/var/cache/rnnreg/bare-bookworm.tar.zst}
BARE_DEBS=${BARE_DEBS-/var/cache/rnnreg/bare-apt-archives}
BARE_WORK=${BARE_WORK:-/var/tmp}
SUITE=bookworm
if [ -z "${BARE_MIRROR:-}" ]; then
    BARE_MIRROR=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    BARE_MIRROR=${BARE_MIRROR:-http://deb.debian.org/debian}
fi

# the steps: a name and the command run in the cloned repository; the README commands must appear in
# README.md verbatim (checked below), so this tests what the README tells a new user to type
names=(); cmds=()
[ $# -gt 0 ] || set -- test reproduce-tiny
while [ $# -gt 0 ]; do
    case "$1" in
        test) names+=(test); cmds+=("make test") ;;
        reproduce-tiny) names+=(reproduce-tiny); cmds+=("make reproduce SCALE=tiny") ;;
        --run) [ $# -ge 2 ] || { echo "test-bare: --run needs a command" >&2; exit 2; }
               names+=("run$((${#names[@]} + 1))"); cmds+=("$2"); shift ;;
        *) echo "test-bare: unknown step '$1' (test, reproduce-tiny, --run 'COMMAND')" >&2; exit 2 ;;
    esac
    shift
done
for i in "${!names[@]}"; do
    case "${names[$i]}" in run*) continue ;; esac
    git show HEAD:README.md 2>/dev/null | grep -qF -- "${cmds[$i]}" ||
        { echo "test-bare: FAIL README.md does not show the command '${cmds[$i]}' this step tests" >&2; exit 1; }
done

t_all=$(date +%s)
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
timings=()
stage_done() { # NAME START
    local d=$(( $(date +%s) - $2 ))
    timings+=("$1 $(fmt $d)")
    echo "test-bare: stage '$1' took $(fmt $d)"
}
finish() { # STATUS MESSAGE
    echo "test-bare: timings: $(IFS=';'; echo "${timings[*]:-none}")"
    echo "test-bare: $1 $2 (total $(fmt $(( $(date +%s) - t_all ))))"
    [ "$1" = PASS ]; exit $?
}

[ "$(id -u)" -eq 0 ] || { echo "test-bare: FAIL needs root (debootstrap, chroot, mounts): run as root" >&2; exit 1; }
command -v git >/dev/null || { echo "test-bare: FAIL git is not installed" >&2; exit 1; }
bash tools/deps.sh bare || finish FAIL "could not install debootstrap/zstd (tools/deps.sh bare)"

commit=$(git rev-parse HEAD) || finish FAIL "not a git repository: $repo"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "test-bare: note: the working tree has uncommitted changes; they are NOT tested (the chroot clones commit ${commit:0:12})"
fi

# --- 1. the cached bare image (once) ---------------------------------------------------------------
if [ ! -s "$BARE_CACHE" ]; then
    t=$(date +%s)
    echo "test-bare: building the cached image $BARE_CACHE (debootstrap --variant=minbase $SUITE from $BARE_MIRROR; once)"
    mkdir -p "$(dirname "$BARE_CACHE")"
    boot=$(mktemp -d "$BARE_WORK/rnnreg-debootstrap.XXXXXX")
    if ! debootstrap --variant=minbase --include=make,git,ca-certificates "$SUITE" "$boot/root" "$BARE_MIRROR" \
            > "$boot/debootstrap.log" 2>&1; then
        tail -n 20 "$boot/debootstrap.log" >&2
        finish FAIL "debootstrap failed (log above; left in $boot)"
    fi
    rm -rf "$boot/root/var/cache/apt/archives/"*.deb "$boot/root/var/lib/apt/lists/"* 2>/dev/null
    tmp="$BARE_CACHE.tmp.$$"
    if ! tar -C "$boot/root" --numeric-owner -I 'zstd -T0 -3 -q' -cf "$tmp" .; then
        rm -f "$tmp"; finish FAIL "could not write $BARE_CACHE"
    fi
    mv -f "$tmp" "$BARE_CACHE"
    rm -rf "$boot"
    stage_done "debootstrap (once)" "$t"
else
    echo "test-bare: using the cached image $BARE_CACHE"
fi

# --- 2. the repository as a bundle of HEAD, cloned inside each chroot by the chroot's own git -------
bundle_dir=$(mktemp -d "$BARE_WORK/rnnreg-bundle.XXXXXX")
trap 'rm -rf "$bundle_dir"' EXIT
git bundle create -q "$bundle_dir/rnnreg.bundle" "HEAD" 2>/dev/null ||
    git bundle create "$bundle_dir/rnnreg.bundle" HEAD || finish FAIL "git bundle of HEAD failed"
[ -n "$BARE_DEBS" ] && mkdir -p "$BARE_DEBS/partial"

# What runs in the chroot as root, with a bare environment: clone, check out the commit, the command as
# typed. Arguments: commit, step name, command.
in_chroot='
set -e
cd /root
git clone -q rnnreg.bundle rnnreg 2>/dev/null
cd rnnreg
git checkout -q --detach "$1"
echo "test-bare: [$2] cloned $(git log -1 --format="%h %s" | cut -c1-72)"
echo "\$ $3"
eval "$3"
'
export in_chroot
# The part that runs in a private mount namespace: mount, chroot, run, unmount (trap).
inner='
set -uo pipefail
root=$1; shift   # then: commit, step name, command
umount_all() {
    for m in dev/shm dev/pts dev sys proc var/cache/apt/archives; do
        mountpoint -q "$root/$m" && umount -l "$root/$m"
    done
}
trap umount_all EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
if [ -n "$BARE_DEBS" ]; then mount --bind "$BARE_DEBS" "$root/var/cache/apt/archives"; fi
# network set-up of the host: its resolver, and the CA certificates added locally there (a TLS-inspecting
# proxy, as on the machines of this project); the ca-certificates package of the image bundles them
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1 || echo "test-bare: update-ca-certificates failed in the chroot"
fi
env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} chroot "$root" /bin/bash -c "$in_chroot" in-chroot "$@"
exit $?
'

run_step() { # NAME COMMAND: fresh chroot, clone, the command
    local step=$1 cmd=$2 work t rc log="$BARE_WORK/rnnreg-bare-$1.log" short
    short=$(head -n1 <<<"$cmd" | cut -c1-60); [ "$short" = "$cmd" ] || short="$short …"
    work=$(mktemp -d "$BARE_WORK/rnnreg-bare.XXXXXX")
    t=$(date +%s)
    mkdir -p "$work/root"
    tar -C "$work/root" --numeric-owner -I zstd -xf "$BARE_CACHE" || { echo "test-bare: could not unpack $BARE_CACHE"; return 1; }
    cp "$bundle_dir/rnnreg.bundle" "$work/root/root/rnnreg.bundle"
    stage_done "$step: unpack a fresh chroot" "$t"

    echo "test-bare: [$step] in $work/root: git clone (commit ${commit:0:12}), then: $short"
    t=$(date +%s)
    BARE_DEBS=$BARE_DEBS unshare --mount --propagation private bash -c "$inner" inner "$work/root" \
        "$commit" "$step" "$cmd" 2>&1 | tee "$log" | sed -u "s/^/  [$step] /"
    rc=${PIPESTATUS[0]}
    stage_done "$step: $short (package installs + the run)" "$t"
    # nothing may still be mounted below the chroot before it is deleted
    if grep -qF " $work/root" /proc/mounts; then
        echo "test-bare: something is still mounted under $work/root; not deleting it"
    elif [ "${BARE_KEEP:-0}" != 1 ]; then
        t=$(date +%s)
        rm -rf "$work"
        stage_done "$step: delete the chroot" "$t"
    else
        echo "test-bare: kept $work (BARE_KEEP=1)"
    fi
    return "$rc"
}

failed=()
for i in "${!names[@]}"; do
    if run_step "${names[$i]}" "${cmds[$i]}"; then
        echo "test-bare: [${names[$i]}] passed: $(head -n1 <<<"${cmds[$i]}")"
    else
        echo "test-bare: [${names[$i]}] FAILED: $(head -n1 <<<"${cmds[$i]}") (log: $BARE_WORK/rnnreg-bare-${names[$i]}.log)"
        failed+=("${cmds[$i]}")
    fi
done
if [ ${#failed[@]} -eq 0 ]; then
    finish PASS "in fresh bare Debian 12 chroots (minbase + make, git, ca-certificates): $(printf "'%s' " "${cmds[@]}")passed (commit ${commit:0:12})"
else
    finish FAIL "in fresh bare Debian 12 chroots: $(printf "'%s' " "${failed[@]}")failed (commit ${commit:0:12})"
fi

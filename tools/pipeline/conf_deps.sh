#!/usr/bin/env bash
# conf_deps.sh — prints FILE and every file it includes, recursively (`include = path`, resolved
# relative to the including file as rnnreg's config reader does, src/config.c; an absolute one as it is), one path per line,
# relative to the working directory, each once. pipeline.mk uses it for the prerequisites of a run;
# run.sh for the fingerprint of a run's inputs. A missing file is printed too (Make then says that
# there is no rule to make it). Usage: tools/pipeline/conf_deps.sh FILE...
set -u
seen=" "
walk() {
    local f=$1 rel
    rel=$(realpath -m --relative-to=. "$f")
    case "$seen" in *" $rel "*) return ;; esac
    seen="$seen$rel "
    echo "$rel"
    [ -f "$f" ] || return 0
    local inc
    # an include line: optional blanks, "include", "=", the path (blanks around it trimmed, inner ones
    # kept, as the trainer does); everything after '#' is a comment. An absolute path is taken as it is,
    # a relative one from the including file's directory.
    while IFS= read -r inc; do
        case $inc in
            /*) walk "$inc" ;;
            *) walk "$(dirname "$rel")/$inc" ;;
        esac
    done < <(sed -E 's/#.*//' "$f" | sed -nE 's/^[[:space:]]*include[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$/\1/p')
}
for f in "$@"; do walk "$f"; done

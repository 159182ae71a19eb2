#!/usr/bin/env bash
# test_reproducible_pdf.sh — tools/pipeline/latex.sh (the paper's pdfLaTeX build) gives byte-identical
# PDFs from the same sources built at two paths at two times, and plain latexmk does not (so the
# comparison of `make check-artifacts` can fail, and latex.sh's settings are what make it pass): a
# one-page document with hyperref, \today and an included PDF found through TEXINPUTS by its absolute
# path (pdfTeX names it in PTEX.FileName unless told not to). Also: a date the sources themselves carry
# (an input file holding the build time) still makes the two PDFs differ. Needs latexmk and pdflatex
# (tools/deps.sh paper); skipped without them.
set -u
cd "$(dirname "$0")/.."
T=test_reproducible_pdf
. tests/lib.sh
for tool in latexmk pdflatex; do
    command -v $tool >/dev/null 2>&1 || { skip "reproducible PDFs: $tool is not installed (tools/deps.sh paper)"; exit 0; }
done
mkdir -p "$BUILD/tests"
W=$(realpath "$(mktemp -d "$BUILD/tests/pdf.XXXXXX")")
trap 'rm -rf "$W"' EXIT
LATEX=$(realpath tools/pipeline/latex.sh)

# the sources, written once into src/, then copied to two folders (a and b/deeper: other paths)
mkdir -p "$W/src/figs"
cat > "$W/src/fig.tex" <<'EOF'
\documentclass{article}
\pagestyle{empty}
\begin{document}
\rule{2cm}{1cm}
\end{document}
EOF
cat > "$W/src/one.tex" <<'EOF'
\documentclass{article}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
\begin{document}
One page, built on \today. \IfFileExists{stamp.tex}{Stamp: \input{stamp.tex}}{}
\includegraphics[width=2cm]{fig.pdf}
\end{document}
EOF
bash "$LATEX" "$W/src" fig.tex "$W/src/figout" >/dev/null 2>&1 && cp "$W/src/figout/fig.pdf" "$W/src/figs/fig.pdf"
check "latex.sh builds a figure PDF" [ -s "$W/src/figs/fig.pdf" ]
for d in a b/deeper; do mkdir -p "$W/$d" && cp -r "$W/src/one.tex" "$W/src/figs" "$W/$d/"; done

# build DIR OUTNAME [plain]: one.tex of DIR with its figs/ in TEXINPUTS (absolute), by latex.sh or plain latexmk
build() {
    local dir=$W/$1
    if [ "${3:-}" = plain ]; then
        (cd "$dir" && TEXINPUTS="$dir/figs:" latexmk -pdf -silent -interaction=nonstopmode -outdir="$dir/$2" one.tex >/dev/null 2>&1)
    else
        bash "$LATEX" "$dir" one.tex "$dir/$2" "$dir/figs" >/dev/null 2>&1
    fi
}
build a out1; sleep 1.1; build b/deeper out1
check "latex.sh: one page built at two paths, a second apart, gives identical bytes" \
    eval '[ -s "$W/a/out1/one.pdf" ] && cmp -s "$W/a/out1/one.pdf" "$W/b/deeper/out1/one.pdf"'
check "... and holds no absolute path of the build (PTEX.FileName suppressed)" \
    eval '! grep -aq "$W" "$W/a/out1/one.pdf"'
build a out2 plain; sleep 1.1; build b/deeper out2 plain
check "plain latexmk: the same two builds differ (pdfTeX's dates, trailer /ID, PTEX paths), so the comparison can fail" \
    eval '[ -s "$W/a/out2/one.pdf" ] && ! cmp -s "$W/a/out2/one.pdf" "$W/b/deeper/out2/one.pdf"'
check "... the plain PDF carries a creation date and the figure's absolute path; latex.sh's neither" \
    eval 'grep -aq "/CreationDate" "$W/a/out2/one.pdf" && grep -aq "$W/a/figs/fig.pdf" "$W/a/out2/one.pdf" &&
          ! grep -aq "/CreationDate" "$W/a/out1/one.pdf"'
# a date injected by the sources (an input holding the build time): latex.sh cannot hide it
date +%s.%N > "$W/a/stamp.tex"; build a out3; sleep 1.1
date +%s.%N > "$W/b/deeper/stamp.tex"; build b/deeper out3
check "a build time injected through an input file makes the two latex.sh PDFs differ" \
    eval '[ -s "$W/a/out3/one.pdf" ] && ! cmp -s "$W/a/out3/one.pdf" "$W/b/deeper/out3/one.pdf"'
exit $((fails > 0))

# style.gp — the house style of every figure, loaded first by each figures/<name>.gp: the cairolatex
# terminal (drawing as PDF, every text set by LaTeX in the paper's own font) at the paper's true
# widths, Okabe–Ito colours (distinguishable with colour-vision deficiencies, Okabe & Ito 2008),
# a thin grey frame on two sides and a light grid. The widths must equal paper/paper.tex's layout
# (\textwidth 7in, \columnsep 0.25in): `make check-artifacts` compares them with the widths LaTeX
# reports in paper.log.
COLW  = 3.375    # \columnwidth, inches
TEXTW = 7.0      # \textwidth, inches
# term(w, h): the terminal at w x h inches; text sizes are estimated at 8 pt (\footnotesize in the paper)
term(w, h) = sprintf("set terminal cairolatex pdf input size %.4fin,%.4fin font ',8' dashlength 1.5", w, h)

# colours by method index (tables.py gives each method its index in every figure)
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 0.5   # blue
set linetype 2 lc rgb '#D55E00' lw 2 pt 5 ps 0.5   # vermillion
set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 0.6   # bluish green
set linetype 4 lc rgb '#CC79A7' lw 2 pt 11 ps 0.6  # reddish purple
set linetype 5 lc rgb '#E69F00' lw 2 pt 13 ps 0.6  # orange
set linetype 6 lc rgb '#56B4E9' lw 2 pt 7 ps 0.5   # sky blue
set linetype 7 lc rgb '#000000' lw 2 pt 5 ps 0.5   # black
set linetype 8 lc rgb '#999999' lw 2 pt 9 ps 0.6   # grey
set linetype cycle 8

set border 3 lc rgb '#555555' lw 1
set tics nomirror out scale 0.5 textcolor rgb '#000000'
set grid lc rgb '#dddddd' lw 1 dt 1
set key noopaque nobox samplen 2 spacing 1.1
set style fill transparent solid 0.18 noborder
set datafile missing NaN

# nice_step(r, n): a 1-2-5 tic step that cuts a range r into about n intervals (the auto tics of
# gnuplot ignore how wide LaTeX's labels are, and crowd narrow plots)
nice_step(r, n) = (ns_s = (r > 0 ? r : 1.0) * 1.0 / n, ns_p = 10.0**floor(log10(ns_s)), \
    ns_s / ns_p < 1.5 ? ns_p : ns_s / ns_p < 3.5 ? 2 * ns_p : ns_s / ns_p < 7.5 ? 5 * ns_p : 10 * ns_p)

# beyond_hi(mean, max, hi, fmt) / beyond_lo(mean, min, lo, fmt): the label of a method whose runs leave
# a points panel (x range ..hi or lo..): its mean when the mean is outside too, else its farthest run
# (gnuplot reads the backslash escapes of a label string that comes from a variable or function once
# more, so the TeX arrows carry a doubled backslash: '\r' would become a carriage return)
set style textbox opaque noborder margins 1, 1   # the `boxed` labels: white behind the text
RARROW = ' $\\rightarrow$'
LARROW = '$\\leftarrow$ '
beyond_hi(mu, mx, hi, f) = (mu > hi ? sprintf('mean '.f, mu) : sprintf('run '.f, mx)).RARROW
beyond_lo(mu, mn, lo, f) = LARROW.(mu < lo ? sprintf('mean '.f, mu) : sprintf('run '.f, mn))

# empty_panel(): what a panel shows when the summary has no data for it yet (a partial summary)
# without tic marks, labels or grid (the tic steps of the panel before would crowd [0:1]), which it then
# restores to this style's defaults
empty_panel = "set label 99 'no finished runs' at graph 0.5, graph 0.5 center; unset logscale y; \
  set format x ''; set format y ''; set tics scale 0; set grid noxtics noytics; plot [0:1][0:1] NaN notitle; \
  unset label 99; set format x '% h'; set format y '$%g$'; set tics scale 0.5; set grid xtics ytics"

# lin_ytics(lo, hi): about four 1-2-5 steps on a linear y axis spanning lo..hi (STATS from `stats`)
lin_ytics = "set ytics nice_step(Y_HI - Y_LO, 4); set mytics 2"

# Multiplot panels placed by hand (gnuplot's `layout` sizes a key by its panel, which crowds a shared
# key): col_at(i, n) puts panel i of n side by side between screen x PL..PR (gap PG), y PB..PT;
# row_at(i, n) stacks panel i of n from the top between PT..PB (gap PG), x PL..PR; key_row draws
# nothing but a key, across the whole width, below screen y KT (plot NaN entries after it).
col_w(n) = (PR - PL - (n - 1) * PG) / n
col_at(i, n) = sprintf("set lmargin at screen %g; set rmargin at screen %g; set bmargin at screen %g; set tmargin at screen %g", \
    PL + (i - 1) * (col_w(n) + PG), PL + (i - 1) * (col_w(n) + PG) + col_w(n), PB, PT)
row_h(n) = (PT - PB - (n - 1) * PG) / n
row_at(i, n) = sprintf("set lmargin at screen %g; set rmargin at screen %g; set tmargin at screen %g; set bmargin at screen %g", \
    PL, PR, PT - (i - 1) * (row_h(n) + PG), PT - (i - 1) * (row_h(n) + PG) - row_h(n))
# grid_at(r, c, nr, nc): panel of row r, column c of an nr x nc grid between PL..PR and PB..PT, gaps
# PG (between columns) and PV (between rows)
grid_at(r, c, nr, nc) = sprintf("set lmargin at screen %g; set rmargin at screen %g; set tmargin at screen %g; set bmargin at screen %g", \
    PL + (c - 1) * (col_w(nc) + PG), PL + (c - 1) * (col_w(nc) + PG) + col_w(nc), \
    PT - (r - 1) * ((PT - PB - (nr - 1) * PV) / nr + PV), PT - (r - 1) * ((PT - PB - (nr - 1) * PV) / nr + PV) - (PT - PB - (nr - 1) * PV) / nr)
key_row = "unset border; unset tics; unset xlabel; unset ylabel; unset title; unset grid; unset logscale; unset label; \
    set lmargin at screen 0.01; set rmargin at screen 0.99; set bmargin at screen 0; set tmargin at screen KT; \
    set key center center horizontal noautotitle samplen 2.5 width 1"

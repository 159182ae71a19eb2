# final.gp — final test MSE per method with the seed spread (figure "final", the text's width): one panel
# per model, side by side, with its methods down the y axis: every run as an open circle in the method's colour, the
# mean over seeds as a filled diamond with a bar of one standard deviation to either side; the base
# model's mean ± sd as a grey band, and a baseline that falls inside a panel's range as a vertical line
# (copy-last dotted, all-zero dash-dotted: BL_DASH).
# Data: final.dat (block 0: position, model, method, seed, MSE; block 1: position, model, method,
# mean, sd, min, max), figdata.gp (tables.py). A run far outside the others (FIN_XLO..FIN_XHI) is written
# beside the panel's edge with its value (beyond_hi / beyond_lo, style.gp): right of the panel, outside
# the data, for a run beyond the right end.
load style
load 'figdata.gp'
MAXPOS = 1
do for [m = 1:N_MODELS] { MAXPOS = (N_POS[m] > MAXPOS ? N_POS[m] : MAXPOS) }
ROWIN = 0.15                       # inches per method
PANEL_EXTRA = 0.62                 # title, tics and x label of a panel, inches
H = MAXPOS * ROWIN + PANEL_EXTRA + 0.1
eval term(TEXTW, H)
set output out.'.tex'
if (N_RUNMETHODS == 0) { @empty_panel; exit }
set multiplot
unset key
set format x '$%g$'
set grid noytics
top = 1 - 0.22 / H
PW = 1.0 / N_MODELS                 # each model's share of the width: method labels, then its panel
do for [m = 1:N_MODELS] {
    if (N_POS[m] == 0) { continue }     # a model without finished runs (a partial summary)
    bottom = top - N_POS[m] * ROWIN / H
    set lmargin at screen (m - 1) * PW + 0.3 * PW
    set rmargin at screen m * PW - 0.17 * PW   # room right of the panel for the labels of runs beyond it
    set tmargin at screen top
    set bmargin at screen bottom
    set title MODEL_LABEL[m] offset 0, -0.4
    set xlabel 'test MSE per frame' offset 0, 0.3
    set yrange [N_POS[m] + 0.6 : 0.4]
    set ytics () scale 0
    p = 0
    do for [s in M_OF[m]] { p = p + 1; set ytics add (M_SHORT[int(s)] p) }
    # the x range (tables.py): every run but those far outside the others, which are written at the edge
    LO = FIN_XLO[m]; HI = FIN_XHI[m]
    set xrange [LO : HI]
    set xtics nice_step(HI - LO, 4)
    set object 1 rect from FIN_BMEAN[m] - FIN_BSD[m], graph 0 to FIN_BMEAN[m] + FIN_BSD[m], graph 1 \
        fc rgb '#e4e4e4' fs solid 1.0 noborder behind clip
    unset arrow
    do for [b = 1:N_BL] {
        if (BL_MSE[b] > LO && BL_MSE[b] < HI) {
            set arrow b from BL_MSE[b], graph 0 to BL_MSE[b], graph 1 nohead dt BL_DASH[b] lw 1.5 lc rgb '#555555'
        }
    }
    PLOT = "plot 'final.dat' index 1 using 4:($2 == m ? $1 : NaN):5 with xerrorbars lc rgb '#333333' pt 13 ps 1.0 lw 1.3"
    PLOT = PLOT.", 'final.dat' index 0 using 5:($2 == m ? $1 : NaN):(M_COLOR[int($3)]) with points pt 6 ps 0.7 lc variable"
    # the runs beyond either end of the x range, as labels at the edge
    if (FIN_NHI[m] > 0) { PLOT = PLOT.", 'final.dat' index 1 using (HI):($2 == m && $7 > HI ? $1 : NaN):(beyond_hi($4, $7, HI, '%.1f')) with labels left offset 0.4, 0 font ',7' tc rgb '#333333'" }
    if (FIN_NLO[m] > 0) { PLOT = PLOT.", 'final.dat' index 1 using (LO):($2 == m && $6 < LO ? $1 : NaN):(beyond_lo($4, $6, LO, '%.1f')) with labels left offset 0.3, 0 font ',7' tc rgb '#333333' boxed" }
    eval PLOT
    unset object 1
}
unset multiplot

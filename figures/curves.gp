# curves.gp — learning curves and generalization gap (figure "curves"), one row per model: training
# loss and validation loss per epoch of every method (mean over seeds), then the generalization gap of
# the last epoch (validation minus training loss) per method: every run (circle), the mean over seeds
# (diamond) with a bar of one standard deviation to either side, the base model's mean ± sd as a grey
# band. Methods keep their style (by name) in every panel; one key for the curves, below them. The loss
# panels draw the all-zero frames' test MSE per pixel (ZERO_LOSS) as a dotted line and leave out a
# run-once experiment (the centred head, trained longer), so that no curve is cut.
# Data: curves.dat (one block per method), gap.dat (block 0 runs, block 1 means), figdata.gp.
load style
load 'figdata.gp'
KEYROWS = ceil(N_NAMEKEYS / 5.0)
KEYH = 0.12 + 0.14 * KEYROWS
MAXPOS = 1
do for [m = 1:N_MODELS] { if (N_POS[m] > MAXPOS) { MAXPOS = N_POS[m] } }
ROWH = (MAXPOS * 0.1 + 0.42 > 1.4 ? MAXPOS * 0.1 + 0.42 : 1.4)
H = ROWH * N_MODELS + KEYH + 0.5
eval term(TEXTW, H)
set output out.'.tex'
if (N_RUNMETHODS == 0) { @empty_panel; exit }
set multiplot
PT = 1 - 0.2 / H; PB = (KEYH + 0.45) / H; PV = 0.5 / H; KT = KEYH / H
RH = (PT - PB - (N_MODELS - 1) * PV) / N_MODELS
# columns (screen x): training, validation, then the gap panel right of its method labels
X1 = 0.065; X2 = 0.32; X3 = 0.39; X4 = 0.645; X5 = 0.815; X6 = 0.915   # right of X6: labels of runs beyond the gap panel
panel(x0, x1, m) = sprintf("set lmargin at screen %g; set rmargin at screen %g; set tmargin at screen %g; set bmargin at screen %g", \
    x0, x1, PT - (m - 1) * (RH + PV), PT - (m - 1) * (RH + PV) - RH)
unset key
set format y '$%g$'
do for [m = 1:N_MODELS] {
    # training and validation loss per epoch
    do for [k = 1:2] {
        col = (k == 1 ? 2 : 4)
        eval panel(k == 1 ? X1 : X3, k == 1 ? X2 : X4, m)
        set title MODEL_LABEL[m].(k == 1 ? ': training loss' : ': validation loss')
        set ylabel (k == 1 ? 'loss (MSE per pixel)' : '')
        if (m == N_MODELS) { set xlabel 'epoch' } else { unset xlabel }
        if (M_OF[m] eq '0') { @empty_panel; continue }
        # the axes of the base and regularizers (tables.py: C_EPOCHS, C_LOG); a run-once experiment
        # trained longer is cut at their last epoch
        set xrange [1 : (C_EPOCHS[m] > 1 ? C_EPOCHS[m] : 2)]
        XSTEP = (nice_step(C_EPOCHS[m] - 1, 4) < 1 ? 1 : nice_step(C_EPOCHS[m] - 1, 4))   # whole epochs
        set xtics XSTEP
        unset mxtics
        set yrange [*:*]
        unset logscale y
        stats 'curves.dat' using (M_MODEL[int(column(-2)) + 1] == m && !M_ONCE[int(column(-2)) + 1] && \
                                  $1 <= C_EPOCHS[m] ? column(col) : NaN) nooutput
        Y_LO = STATS_min; Y_HI = STATS_max
        if (ZERO_LOSS == ZERO_LOSS) { Y_LO = (ZERO_LOSS < Y_LO ? ZERO_LOSS : Y_LO); Y_HI = (ZERO_LOSS > Y_HI ? ZERO_LOSS : Y_HI) }
        if (C_LOG[m]) {
            set logscale y; set ytics autofreq
            set yrange [Y_LO / 1.15 : Y_HI * 1.15]
        } else {
            @lin_ytics
            set yrange [Y_LO - 0.05 * (Y_HI - Y_LO) : Y_HI + 0.05 * (Y_HI - Y_LO)]
        }
        plot for [s in M_OF[m]] 'curves.dat' index (int(s) - 1) using 1:(M_ONCE[int(s)] ? NaN : column(col)) \
                 with linespoints lt M_COLOR[int(s)] dt M_DASH[int(s)] pt M_PT[int(s)] lw M_LW[int(s)] ps 0.45 notitle, \
             ZERO_LOSS with lines lc rgb '#555555' dt 3 lw 1.5 notitle
    }
    # the gap per method: labels on the y axis, in the order of the model's methods
    unset logscale y
    eval panel(X5, X6, m)
    set title MODEL_LABEL[m].': gap, last epoch'
    unset ylabel
    if (m == N_MODELS) { set xlabel 'validation $-$ training loss' } else { unset xlabel }
    if (M_OF[m] eq '0') { @empty_panel; continue }
    set yrange [N_POS[m] + 0.6 : 0.4]
    set ytics () scale 0
    p = 0
    do for [s in M_OF[m]] { p = p + 1; set ytics add (M_SHORT[int(s)] p) }
    # the x range (tables.py): every run but those far outside the others, written at the edge
    LO = GAP_XLO[m]; HI = GAP_XHI[m]
    set xrange [LO : HI]
    # two tic intervals, or one where the range is narrow against its values (long labels such as
    # 0.00265 would run into each other in this narrow panel)
    GSTEP = nice_step(HI - LO, 2)
    if (GSTEP < 0.05 * (abs(LO) > abs(HI) ? abs(LO) : abs(HI))) { GSTEP = nice_step(HI - LO, 1) }
    set xtics GSTEP
    set grid noytics
    set object 1 rect from GAP_BMEAN[m] - GAP_BSD[m], graph 0 to GAP_BMEAN[m] + GAP_BSD[m], graph 1 \
        fc rgb '#e4e4e4' fs solid 1.0 noborder behind clip
    PLOT = "plot 'gap.dat' index 1 using 4:($2 == m ? $1 : NaN):5 with xerrorbars lc rgb '#333333' pt 13 ps 0.9 lw 1.2"
    PLOT = PLOT.", 'gap.dat' index 0 using 5:($2 == m ? $1 : NaN):(M_COLOR[int($3)]) with points pt 6 ps 0.6 lc variable"
    # the runs beyond either end of the x range, as labels at the edge
    if (GAP_NHI[m] > 0) { PLOT = PLOT.", 'gap.dat' index 1 using (HI):($2 == m && $7 > HI ? $1 : NaN):(beyond_hi($4, $7, HI, '%.3f')) with labels left offset 0.4, 0 font ',7' tc rgb '#333333'" }
    if (GAP_NLO[m] > 0) { PLOT = PLOT.", 'gap.dat' index 1 using (LO):($2 == m && $6 < LO ? $1 : NaN):(beyond_lo($4, $6, LO, '%.3f')) with labels left offset 0.3, 0 font ',7' tc rgb '#333333' boxed" }
    eval PLOT
    unset object 1
    set grid ytics
    set ytics autofreq scale 0.5
    set autoscale y
}
# the shared key of the curves: every method name in its style
@key_row
set key maxcols 5 width 1 Left reverse
plot [0:1][0:1] for [j = 1:N_NAMEKEYS] NaN with linespoints lt K_COLOR[j] dt K_DASH[j] pt K_PT[j] lw K_LW[j] \
    title (K_ONCE[j] ? '' : K_LABEL[j]), NaN with lines lc rgb '#555555' dt 3 lw 1.5 title 'all-zero frames (test)'
unset multiplot

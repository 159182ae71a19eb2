# regime.gp — the control regime (figure "regime"), one row per model: the validation loss per epoch
# (left) and, from the first free-running epoch on (scheduled sampling over, so that both losses measure
# the same prediction), the generalization gap, validation minus training loss (right). Black: the base
# runs on the fixed training set (mean over seeds; grey band: the range of their gaps); vermillion: the
# runs on fresh sequences every epoch after the first (mean over seeds; light band: their range). The
# dashed line in the left panel marks the first free-running epoch; the light boxes in the right panel
# the epochs whose mean gaps are the start and the end of a run's growth (paperdata.gap_window). A model
# without a fresh-sequence run gets empty panels.
# Data: regime.dat (tables.py regime_dat: one block per model), figdata.gp (R_HAS, R_FREE, R_SEEDS).
load style
load 'figdata.gp'
H = 1.3 * N_MODELS + 0.95
eval term(COLW, H)
set output out.'.tex'
set multiplot
PL = 0.17; PR = 0.97; PG = 0.16; PV = 0.42 / H; PB = 0.92 / H; PT = 1 - 0.18 / H; KT = 0.52 / H
unset key
set format y '$%g$'
do for [m = 1:N_MODELS] {
    do for [k = 1:2] {
        eval grid_at(m, k, N_MODELS, 2)
        set title MODEL_LABEL[m].(k == 1 ? ': validation loss' : ': gap') offset 0, -0.6
        if (m == N_MODELS) { set xlabel 'epoch' } else { unset xlabel }
        if (!R_HAS[m]) { @empty_panel; continue }
        # stats before the axes are set (a single-column stats keeps to the x range)
        set xrange [*:*]; set yrange [*:*]
        stats 'regime.dat' index (m - 1) using 1 nooutput
        LAST = STATS_max
        X0 = (k == 1 || R_FREE[m] < 1 ? 1 : R_FREE[m])
        # the y range of what is drawn (base band included), with a margin
        stats 'regime.dat' index (m - 1) using ($1 >= X0 ? (k == 1 ? $6 : $3) : NaN) nooutput
        Y_LO = STATS_min
        stats 'regime.dat' index (m - 1) using ($1 >= X0 ? (k == 1 ? $6 : $4) : NaN) nooutput
        Y_HI = STATS_max
        stats 'regime.dat' index (m - 1) using ($1 >= X0 ? (k == 1 ? $7 : $8) : NaN) nooutput
        Y_LO = (STATS_min < Y_LO ? STATS_min : Y_LO)
        stats 'regime.dat' index (m - 1) using ($1 >= X0 ? (k == 1 ? $7 : $9) : NaN) nooutput
        Y_HI = (STATS_max > Y_HI ? STATS_max : Y_HI)
        if (k == 2) { Y_LO = (Y_LO > 0 ? 0 : Y_LO) }
        @lin_ytics
        set xrange [X0 : (LAST > X0 ? LAST : X0 + 1)]
        XSTEP = (nice_step(LAST - X0, 3) < 1 ? 1 : nice_step(LAST - X0, 3))
        set xtics XSTEP
        unset mxtics
        set yrange [Y_LO - 0.06 * (Y_HI - Y_LO) : Y_HI + 0.06 * (Y_HI - Y_LO)]
        if (k == 1) {
            if (R_FREE[m] > 1) { set arrow 1 from R_FREE[m], graph 0 to R_FREE[m], graph 1 nohead dt 2 lc rgb '#777777' lw 1 }
            plot 'regime.dat' index (m - 1) using 1:6 with lines lt 7 lw 2 notitle, \
                 '' index (m - 1) using 1:7 with lines lt 2 lw 2 notitle
            unset arrow 1
        } else {
            # the two windows whose mean gaps make a run's growth (paperdata.gap_window), shaded
            if (R_WIN[m] > 0) {
                set object 1 rect from R_FREE[m] - 0.5, graph 0 to R_FREE[m] + R_WIN[m] - 0.5, graph 1 behind fc rgb '#EEEEEE' fs solid noborder
                set object 2 rect from LAST - R_WIN[m] + 0.5, graph 0 to LAST + 0.5, graph 1 behind fc rgb '#EEEEEE' fs solid noborder
            }
            plot 'regime.dat' index (m - 1) using 1:3:4 with filledcurves lc rgb '#999999' notitle, \
                 '' index (m - 1) using 1:8:9 with filledcurves lc rgb '#D55E00' fs transparent solid 0.12 notitle, \
                 '' index (m - 1) using 1:2 with lines lt 7 lw 2 notitle, \
                 '' index (m - 1) using 1:5 with lines lt 2 lw 2 notitle, \
                 0 with lines lc rgb '#555555' dt 3 lw 1 notitle
            unset object 1; unset object 2
        }
    }
}
# the shared key
@key_row
set key maxcols 1 width 1 Left reverse
SEEDS = ''
do for [m = 1:N_MODELS] { if (R_SEEDS[m] ne '' && SEEDS eq '') { SEEDS = R_SEEDS[m] } }
plot [0:1][0:1] NaN with lines lt 7 lw 2 title 'base, fixed training set (mean over seeds; band: range)', \
     NaN with lines lt 2 lw 2 title 'fresh sequences every epoch'.(SEEDS eq '' ? '' : ' ('.SEEDS.')'), \
     NaN with lines lc rgb '#777777' dt 2 lw 1 title 'first free-running epoch'
unset multiplot

# optim.gp — the optimizer study (figure "optim"): validation loss per epoch of each optimizer (mean
# over the study's seeds), one panel per model; the optimizer chosen for the other experiments (lowest
# best validation loss) drawn thick. One key below the panels (the optimizers in the same order and
# colours in every panel). Data: optim.dat, figdata.gp (tables.py).
load style
load 'figdata.gp'
eval term(COLW, 1.2 * N_MODELS + 0.7)
set output out.'.tex'
set multiplot
PL = 0.2; PR = 0.97; PG = 0.13; PB = 0.25; PT = 0.95; KT = 0.11
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.04
set format y '$%g$'
stats 'optim.dat' using 1 nooutput
XSTEP = (nice_step(STATS_max - 1, 4) < 1 ? 1 : nice_step(STATS_max - 1, 4))   # whole epochs
set xtics XSTEP
set autoscale xfix
unset key
do for [m = 1:N_MODELS] {
    set title (O_PICK[m] eq '' ? MODEL_LABEL[m] : MODEL_LABEL[m].': '.O_PICK[m].' chosen ($\star$, thick)') offset 0, -0.5
    set ylabel 'val.\ loss'
    eval row_at(m, N_MODELS)
    if (m == N_MODELS) { set xlabel 'epoch' }
    if (O_OF[m] eq '0') { @empty_panel; continue }
    if (O_LOG[m]) { set logscale y; set ytics autofreq } else {
        unset logscale y
        stats 'optim.dat' using (O_MODEL[int(column(-2)) + 1] == m ? $2 : NaN) nooutput
        Y_LO = STATS_min; Y_HI = STATS_max
        @lin_ytics
    }
    plot for [s in O_OF[m]] 'optim.dat' index (int(s)-1) using 1:2 \
         with linespoints lt (int(s) - 1) % (N_OPT / N_MODELS) + 1 lw (O_CHOSEN[int(s)] ? 4 : 1.5) notitle
}
# the shared key: the optimizers in the order and colours of every panel
@key_row
set key maxcols 2
plot [0:1][0:1] for [j = 1:N_OPT / N_MODELS] NaN with linespoints lt j lw 1.5 title O_LABEL[j]
unset multiplot

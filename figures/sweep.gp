# sweep.gp — the sweeps (figure "sweep"): test MSE against the swept value, one row per model and one
# column per sweep (a linear axis for the dropout rate, a log axis where the values span decades, e.g.
# the L2 weight). Filled points: the mean over a point's runs, with a bar of one standard deviation to
# either side where it has several; open circles: those points' mean over the seeds every point has
# (the fair comparison); grey band and dashed line: the base model's mean ± sd.
# Data: sweep.dat (one block per model × sweep: value, mean, sd, runs, common-seed mean), figdata.gp.
load style
load 'figdata.gp'
H = 1.4 * N_MODELS + 0.2
eval term(COLW, H)
set output out.'.tex'
if (N_SWBLOCKS == 0 || N_SWEEPS == 0) { @empty_panel; exit }
set multiplot
PL = 0.16; PR = 0.98; PG = 0.1; PV = 0.55 / H; PT = 1 - 0.2 / H; PB = 0.36 / H
unset key
set format y '$%g$'
set samples 2
do for [b = 1:N_SWBLOCKS] {
    m = SW_MODEL[b]; w = SW_SWEEP[b]
    eval grid_at(m, w, N_MODELS, N_SWEEPS)
    set title MODEL_LABEL[m].': '.SW_NAME[w].' sweep' offset 0, -0.4
    set xlabel SW_AXIS[w] offset 0, 0.4
    set ylabel (w == 1 ? 'test MSE' : '') offset 1, 0
    if (SW_N[b] == 0) { @empty_panel; continue }
    if (SW_LOG[w]) { set logscale x } else { unset logscale x }
    set xrange [SW_XLO[w] : SW_XHI[w]]
    eval SW_XTICS[w]
    unset mxtics
    set yrange [*:*]
    stats 'sweep.dat' index (b - 1) using 4 nooutput
    MAXRUNS = STATS_max
    stats 'sweep.dat' index (b - 1) using 2 nooutput
    Y_LO = STATS_min; Y_HI = STATS_max
    stats 'sweep.dat' index (b - 1) using ($2 - ($3 == $3 ? $3 : 0)) nooutput
    Y_LO = (STATS_min < Y_LO ? STATS_min : Y_LO)
    stats 'sweep.dat' index (b - 1) using ($2 + ($3 == $3 ? $3 : 0)) nooutput
    Y_HI = (STATS_max > Y_HI ? STATS_max : Y_HI)
    if (SW_BMEAN[m] == SW_BMEAN[m]) {
        Y_LO = (SW_BMEAN[m] - SW_BSD[m] < Y_LO ? SW_BMEAN[m] - SW_BSD[m] : Y_LO)
        Y_HI = (SW_BMEAN[m] + SW_BSD[m] > Y_HI ? SW_BMEAN[m] + SW_BSD[m] : Y_HI)
    }
    PAD = 0.08 * (Y_HI - Y_LO > 0 ? Y_HI - Y_LO : 1)
    set yrange [Y_LO - PAD : Y_HI + PAD]
    set ytics nice_step(Y_HI - Y_LO, 3)
    set object 1 rect from graph 0, first SW_BMEAN[m] - SW_BSD[m] to graph 1, first SW_BMEAN[m] + SW_BSD[m] \
        fc rgb '#e4e4e4' fs solid 1.0 noborder behind
    set arrow 1 from graph 0, first SW_BMEAN[m] to graph 1, first SW_BMEAN[m] nohead dt 2 lw 1.2 lc rgb '#555555'
    # (the bars and the common-seed circles only where some point has several runs: gnuplot warns
    # about a plot without points)
    if (MAXRUNS > 1) {
        plot 'sweep.dat' index (b - 1) using 1:2 with linespoints lt 1 pt 7 ps 0.6 lw 1.2 notitle, \
             'sweep.dat' index (b - 1) using 1:($3 == $3 ? $2 : NaN):3 with yerrorbars lt 1 pt 7 ps 0.6 lw 1.2 notitle, \
             'sweep.dat' index (b - 1) using 1:($4 > 1 ? $5 : NaN) with points lt 2 pt 6 ps 0.8 lw 1.2 notitle
    } else {
        plot 'sweep.dat' index (b - 1) using 1:2 with linespoints lt 1 pt 7 ps 0.6 lw 1.2 notitle
    }
    unset object 1
    unset arrow 1
}
unset multiplot

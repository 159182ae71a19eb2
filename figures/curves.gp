# curves.gp — learning curves (figure "curves"): per model, the mean over seeds of the training loss
# (dashed) and validation loss (solid) per epoch with a ±1 standard deviation band, for the base model
# and the experiments run once (the centred-head ConvLSTM); last panel: the generalization gap,
# validation minus training loss, of each base model. One key for all panels, below them.
# Data: curves.dat, figdata.gp (tables.py). Run by pipeline.mk in build/paper/<scale>/ as
#   gnuplot -e "style='.../figures/style.gp'; out='fig-curves'" curves.gp
load style
load 'figdata.gp'
eval term(TEXTW, 2.4)
set output out.'.tex'
set multiplot
PL = 0.065; PR = 0.99; PG = 0.075; PB = 0.3; PT = 0.92; KT = 0.13
set autoscale xfix
set xlabel 'epoch'
set autoscale yfix
set offsets 0, 0, graph 0.08, graph 0.04
set format y '$%g$'
unset key
do for [m = 1:N_MODELS] {
    set title MODEL_LABEL[m]
    set ylabel (m == 1 ? 'loss (MSE per pixel)' : '')
    eval col_at(m, N_MODELS + 1)
    if (C_OF[m] eq '0') { @empty_panel; continue }
    stats 'curves.dat' using (C_MODEL[int(column(-2)) + 1] == m ? $1 : NaN) nooutput
    set xtics nice_step(STATS_max - 1, 4)
    if (C_LOG[m]) { set logscale y; set ytics autofreq } else {
        unset logscale y
        stats 'curves.dat' using (C_MODEL[int(column(-2)) + 1] == m ? $2 : NaN) nooutput
        Y_LO = STATS_min; Y_HI = STATS_max
        stats 'curves.dat' using (C_MODEL[int(column(-2)) + 1] == m ? $4 : NaN) nooutput
        Y_LO = (STATS_min < Y_LO ? STATS_min : Y_LO); Y_HI = (STATS_max > Y_HI ? STATS_max : Y_HI)
        @lin_ytics
    }
    plot for [s in C_OF[m]] 'curves.dat' index (int(s)-1) using 1:($4 - $5):($4 + $5) \
             with filledcurves lc C_COLOR[int(s)] notitle, \
         for [s in C_OF[m]] 'curves.dat' index (int(s)-1) using 1:2 with linespoints lt C_COLOR[int(s)] dt 2 notitle, \
         for [s in C_OF[m]] 'curves.dat' index (int(s)-1) using 1:4 with linespoints lt C_COLOR[int(s)] dt 1 notitle
}
set title 'gap: validation $-$ training loss'
eval col_at(N_MODELS + 1, N_MODELS + 1)
is_base(i) = strstrt(' '.C_BASES.' ', sprintf(' %d ', i)) > 0
stats 'curves.dat' using (is_base(int(column(-2)) + 1) ? $1 : NaN) nooutput
set xtics nice_step(STATS_max - 1, 4)
unset ylabel
unset logscale y
set ytics autofreq
set format y '$%g$'
if (C_BASES eq '0') { @empty_panel } else {
plot for [s in C_BASES] 'curves.dat' index (int(s)-1) using 1:($6 - $7):($6 + $7) with filledcurves lc C_COLOR[int(s)] notitle, \
     for [s in C_BASES] 'curves.dat' index (int(s)-1) using 1:6 with linespoints lt C_COLOR[int(s)] notitle, \
     0 with lines lc rgb '#888888' lw 1 notitle
}
# the shared key: every curve's colour, then the two line styles
@key_row
set key maxcols N_CURVES + 2 width -3
plot [0:1][0:1] for [i = 1:N_CURVES] NaN with linespoints lt C_COLOR[i] title C_LABEL[i], \
     NaN with lines lc rgb '#555555' dt 2 lw 2 title 'train', \
     NaN with lines lc rgb '#555555' dt 1 lw 2 title 'validation'
unset multiplot

# frames.gp — quality per future frame (figure "frames"): test MSE, PSNR and SSIM at each predicted
# frame, mean over seeds; one row of panels per model with its methods and the two baselines (dotted).
# A run-once experiment (the centred head, far outside the others) is left out, so that no curve is cut.
# A method has the same colour, dash and point in every panel (by name: tables.py); one key for all,
# below the panels. Data: frames.dat (one block per method), figdata.gp (tables.py).
load style
load 'figdata.gp'
KEYROWS = ceil(N_KEYS / 5.0)
KEYH = 0.12 + 0.14 * KEYROWS          # inches
H = 1.3 * N_MODELS + KEYH + 0.5
eval term(TEXTW, H)
set output out.'.tex'
if (N_METHODS == 0) { @empty_panel; exit }
set multiplot
PL = 0.06; PR = 0.99; PG = 0.065; PV = 0.5 / H; PT = 1 - 0.2 / H; PB = (KEYH + 0.45) / H; KT = KEYH / H
# a tic at every third frame (minor ones between), at every frame of a horizon of five or fewer
if (N_FUTURE > 5) { set xtics 1, 3; set mxtics 3 } else { set xtics 1, 1; unset mxtics }
set autoscale xfix      # the x axis ends at the last predicted frame
set format y '$%g$'
unset key
in_list(l, i) = strstrt(' '.l.' ', sprintf(' %d ', i)) > 0
metric = "'MSE per frame' 'PSNR (dB)' 'SSIM'"
do for [m = 1:N_MODELS] {
    shown = M_OF[m].' '.B_OF
    do for [k = 1:3] {
        c = 2 * k   # mean column (sd in c + 1)
        eval grid_at(m, k, N_MODELS, 3)
        set title MODEL_LABEL[m].': '.word(metric, k)
        if (m == N_MODELS) { set xlabel 'predicted frame' } else { unset xlabel }
        if (M_OF[m] eq '0') { @empty_panel; continue }
        set yrange [*:*]
        # the y range of the base, regularizers and baselines: a run-once experiment (the centred head)
        # may leave the panel
        stats 'frames.dat' using (in_list(shown, int(column(-2)) + 1) && !M_ONCE[int(column(-2)) + 1] ? column(c) : NaN) nooutput
        Y_LO = STATS_min; Y_HI = STATS_max
        @lin_ytics
        set yrange [Y_LO - 0.05 * (Y_HI - Y_LO) : Y_HI + 0.05 * (Y_HI - Y_LO)]
        plot for [s in shown] 'frames.dat' index (int(s) - 1) using 1:(M_ONCE[int(s)] ? NaN : column(c)) with linespoints \
                 lt M_COLOR[int(s)] dt M_DASH[int(s)] pt M_PT[int(s)] lw M_LW[int(s)] ps 0.45 notitle
    }
}
# the shared key: every method name in its style, then the baselines
@key_row
set key maxcols 5 width 1 Left reverse
plot [0:1][0:1] for [j = 1:N_KEYS] NaN with linespoints lt K_COLOR[j] dt K_DASH[j] pt K_PT[j] lw K_LW[j] \
    title (K_ONCE[j] ? '' : K_LABEL[j])
unset multiplot

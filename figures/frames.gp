# frames.gp — quality per future frame (figure "frames"): test MSE, PSNR and SSIM of every method at
# each predicted frame, mean over seeds (±1 standard deviation band where there are several seeds).
# Baselines dotted, the once-run experiments dashed; the key on the right. Data: frames.dat,
# figdata.gp (tables.py).
load style
load 'figdata.gp'
eval term(TEXTW, 2.0)
set output out.'.tex'
if (N_METHODS == 0) { @empty_panel; exit }
set multiplot layout 1, 3 margins 0.055, 0.77, 0.19, 0.9 spacing 0.065, 0
set xlabel 'predicted frame'
set xtics 1, 3
set mxtics 3
set format y '$%g$'
titles = "'MSE per frame' 'PSNR (dB)' 'SSIM'"
do for [k = 1:3] {
    set title word(titles, k)
    c = 2 * k   # mean column; sd in c + 1
    stats 'frames.dat' using c nooutput
    Y_LO = STATS_min; Y_HI = STATS_max
    @lin_ytics
    if (k == 1) {
        set key at screen 0.785, screen 0.88 left top vertical Left reverse samplen 3 width -2
    } else {
        unset key
    }
    plot for [i = 1:N_METHODS] 'frames.dat' index (i-1) using 1:(column(c) - column(c+1)):(column(c) + column(c+1)) \
             with filledcurves lc M_COLOR[i] notitle, \
         for [i = 1:N_METHODS] 'frames.dat' index (i-1) using 1:c with linespoints lt M_COLOR[i] dt M_DASH[i] \
             title M_LABEL[i]
}
unset multiplot

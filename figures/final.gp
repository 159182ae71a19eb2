# final.gp — final test MSE per method with the seed spread (figure "final"): every run as an open
# circle, the mean over seeds as a filled diamond with a ±1 standard deviation bar. Data: final.dat
# (block 0: method index, seed, MSE; block 1: method index, mean, sd), figdata.gp (tables.py).
load style
load 'figdata.gp'
eval term(COLW, 0.55 + 0.24 * N_METHODS)
set output out.'.tex'
if (N_METHODS == 0) { @empty_panel; exit }
stats 'final.dat' index 0 using 3 nooutput
set lmargin at screen 0.47
set rmargin at screen 0.96
set tmargin 0.5
set xlabel 'test MSE per frame'
set xtics nice_step(STATS_max - STATS_min, 4)
set yrange [N_METHODS + 0.6 : 0.4]
set ytics () scale 0
do for [i = 1:N_METHODS] { set ytics add (M_LABEL[i] i) }
set format x '$%g$'
unset key
set grid noytics
plot 'final.dat' index 1 using 2:1:3 with xerrorbars lc rgb '#333333' pt 13 ps 1.1 lw 1.5, \
     'final.dat' index 0 using 3:1:(M_COLOR[int($1)]) with points pt 6 ps 0.8 lc variable

# scales/short/scale.mk — the short scale (issue 14): the study scale's matrix (../study/scale.mk: the
# report's matrix on both models with three seeds, the leak and its causal control, the control regime
# with five seeds) on the short horizon of common.conf. It is the default of `make reproduce`: the scale
# whose base models meet every criterion of issue 14, SSIM above black frames' included.
include experiments/scales/study/scale.mk
# The same recipe on the standard ten predicted frames (its committed summary is read by the paper: why
# this scale predicts two).
TWIN := study

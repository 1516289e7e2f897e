# fmnist-limited: TST with augmenter lr 0.5 (tst_auglr) and the augmenter
# objective's student term switched off (TSTAugmentLoss student_weight=0,
# the teacher's CE alone; the paper weighs both terms 1). The diagnosis in
# the README: the augmented half costs accuracy because the teacher gets
# many augmented samples wrong. This balance takes the other extreme: the
# augmenter only keeps the teacher right and no longer looks for samples
# the student gets wrong, i.e. it ablates TST's "what the student does not
# know yet" term. Nothing else differs from
# tst_auglr_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_auglr_resnet20_resnet8_fmnist_limited.py'
model = dict(augmenter_loss=dict(student_weight=0.0))

# fmnist-limited: tst_auglr_sample_logit with the student's loss on the
# augmented half only (aug_loss_weight=1.0; the paper weighs the augmented
# and the original half 1/2 each). KD + RandAugment trains on augmented
# images only, with no original beside them; on fmnist-limited-n25 the
# per-image TST is level with it, and this isolates the one difference in
# what the student's loss sees. The originals still pass through both
# models (their loss weighs 0), so a step costs what a TST step costs.
# Nothing else differs from
# tst_auglr_sample_logit_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_auglr_sample_logit_resnet20_resnet8_fmnist_limited.py'
model = dict(aug_loss_weight=1.0)

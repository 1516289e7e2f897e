# What every mmtst run needs, kept in the config so that a runner built the
# way mmengine's tools build one (RUNNERS.build(cfg)) behaves as one built by
# tools/train.py: atomic checkpoint writes, checkpoints that load with
# torch's weights_only, a stop at the first NaN/inf loss, and an exact
# --resume (RNG and TST loop state), the teacher's own validation score
# logged before distilling, and TST's augmenter steps logged like the
# student's. default_runtime.py, det_runtime.py and
# seg_runtime.py inherit it; configs built on a native toolbox's config
# (configs/tst/coco, configs/tst/cityscapes) list it as a second base.
# A config that sets custom_hooks replaces this list; keep mmtst's hooks with
#   custom_hooks = [*_base_.custom_hooks, dict(type='EMAHook')]
# (tools/train.py adds any of them a config lacks).
runner_type = 'mmtst.AtomicCheckpointRunner'
# the training pipeline's random transforms seeded per sample from (seed,
# epoch, index), so a resume is exact with loader workers and
# iteration-based loops (mmtst/datasets/seeded_loading.py); False builds
# mmengine's plain loader
seeded_data_pipeline = True
custom_hooks = [
    dict(type='mmtst.WeightsOnlyCheckpointHook'),
    dict(type='mmtst.FiniteLossHook'),
    dict(type='mmtst.ExactResumeHook'),
    dict(type='mmtst.TeacherValidationHook'),
    dict(type='mmtst.AugmenterLoggerHook'),
]

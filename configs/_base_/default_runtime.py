# Runtime shared by mmtst's classification configs (mmpretrain's defaults).
# mmtst's runner and hooks: see mmtst_runtime.py.
_base_ = ['./mmtst_runtime.py']

default_scope = 'mmpretrain'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook, deleting old checkpoints only after the
    # new one is written (mmtst/engine/hooks/safe_checkpoint_hook.py)
    checkpoint=dict(
        type='mmtst.SafeCheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

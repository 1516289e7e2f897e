# FunMatch set-up 1, fixed teacher: the teacher's logits on the whole image
# are computed once and cached on disk; the student sees random views.
_base_ = './_base_funmatch_fmnist.py'
model = dict(
    views=dict(
        mode='fixed_teacher',
        mixup=None,
        fixed_view=dict(type='CentreResize', size=28),
        cache_dir='work_dirs/teacher_logit_cache'))

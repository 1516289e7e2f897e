# fmnist-limited: KD (CE + KL, tau 4), the loader's crop + flip only.
_base_ = './_base_kd_fmnist_limited.py'

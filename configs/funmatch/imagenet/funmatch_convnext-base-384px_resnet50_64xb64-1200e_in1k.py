# Function matching, 1200 epochs (the paper's longest ImageNet schedule).
_base_ = './_base_funmatch_in1k.py'

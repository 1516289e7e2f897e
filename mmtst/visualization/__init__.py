from .policy_plots import (PolicyRecord, plot_policy, read_policy_records,
                           read_policy_trajectories, sample_grid)

__all__ = ['PolicyRecord', 'plot_policy', 'read_policy_records',
           'read_policy_trajectories', 'sample_grid']

from .policy_plots import (PolicyRecord, fired_ops, plot_policy,
                           read_policy_records, read_policy_trajectories,
                           sample_grid)

__all__ = [
    'PolicyRecord', 'fired_ops', 'plot_policy', 'read_policy_records',
    'read_policy_trajectories', 'sample_grid'
]

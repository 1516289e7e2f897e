from .policy_plots import plot_policy, read_policy_trajectories, sample_grid

__all__ = ['plot_policy', 'read_policy_trajectories', 'sample_grid']

"""TST's augmenter on its own: parameters, gates, determinism, errors."""
import pytest
import torch

from mmtst.models.augmenters import ALL_OPS, MAGNITUDE_OPS, LearnableAugmentPolicy


def images(n=4, c=3, size=24):
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size),
                            indexing='ij')
    base = (0.5 + 0.4 * torch.sin(6 * xx) * torch.cos(4 * yy))
    return base.expand(n, c, size, size).clone()


def test_parameters_start_at_one_half():
    policy = LearnableAugmentPolicy(backend='analytic')
    assert policy.probability_logits.shape == (14, )
    assert policy.magnitude_logits.shape == (11, )
    assert torch.allclose(policy.probabilities(), torch.full((14, ), 0.5))
    assert torch.allclose(policy.magnitudes(), torch.full((11, ), 0.5))
    assert set(policy.policy_dict()) == {f'p_{op}' for op in ALL_OPS} | \
        {f'm_{op}' for op in MAGNITUDE_OPS}


@pytest.mark.parametrize('backend', ['analytic', 'neural'])
@pytest.mark.parametrize('channels', [1, 3])
def test_gradients_reach_every_probability_and_magnitude(backend, channels):
    policy = LearnableAugmentPolicy(backend=backend, solve_number=14)
    # enough samples that the neural nets' 50% apply gate hits every op
    x = images(n=16, c=channels)
    out = policy(x)
    assert out.shape == x.shape
    (out * torch.randn_like(out)).sum().backward()
    # analytic Color (saturation) is exactly the identity on grey images,
    # so neither its p nor its m matters there; its fitted net is not exact
    def expected(ops):
        return torch.tensor([channels == 3 or backend == 'neural' or op != 'Color'
                             for op in ops])
    p_grad, m_grad = policy.probability_logits.grad, policy.magnitude_logits.grad
    assert torch.equal(p_grad != 0, expected(ALL_OPS)), dict(zip(ALL_OPS, p_grad.tolist()))
    assert torch.equal(m_grad != 0, expected(MAGNITUDE_OPS)), dict(zip(MAGNITUDE_OPS, m_grad.tolist()))


def test_eval_mode_is_deterministic_and_uses_hard_gates():
    policy = LearnableAugmentPolicy(backend='analytic').eval()
    x = images()
    first, second = policy(x), policy(x)
    assert torch.equal(first, second)
    assert not torch.equal(first, x)
    policy.train()
    assert not torch.equal(policy(x), policy(x))


def test_gate_input_modes():
    """Faithful: sigmoid(p) fires; 'logit': p fires."""
    faithful = LearnableAugmentPolicy(backend='analytic')
    textbook = LearnableAugmentPolicy(backend='analytic', gate_input='logit')
    with torch.no_grad():
        for policy in (faithful, textbook):
            policy.probability_logits.fill_(-2.0)  # p = 0.12
    torch.manual_seed(0)
    rate_faithful = faithful.eval()._gates(faithful.gate_logits(), 20000).mean()
    rate_textbook = textbook.eval()._gates(textbook.gate_logits(), 20000).mean()
    p = torch.sigmoid(torch.tensor(-2.0))
    assert rate_textbook == pytest.approx(p.item(), abs=0.01)
    assert rate_faithful == pytest.approx(torch.sigmoid(p).item(), abs=0.01)


def test_normalised_input_round_trips():
    mean, std = [120.0, 110.0, 100.0], [60.0, 55.0, 50.0]
    policy = LearnableAugmentPolicy(backend='analytic', mean=mean, std=std,
                                    gate_input='logit')
    with torch.no_grad():
        policy.probability_logits.fill_(-1e4)  # gates 0: the identity
    pixels = images()
    normalised = (pixels * 255 - torch.tensor(mean).view(1, 3, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(policy(normalised), normalised, atol=1e-4)


def test_sequential_composition_differs_from_residual():
    x = images()
    residual = LearnableAugmentPolicy(backend='analytic', solve_number=14).eval()
    sequential = LearnableAugmentPolicy(backend='analytic', solve_number=14,
                                        composition='sequential').eval()
    assert not torch.allclose(residual(x), sequential(x))


@pytest.mark.parametrize('kwargs, match', [
    (dict(ops=['Rotate', 'Blur']), "Unknown augmentation op.*'Blur'"),
    (dict(ops=['Rotate', 'Rotate']), 'listed twice'),
    (dict(solve_number=0), 'solve_number'),
    (dict(solve_number=15), 'solve_number'),
    (dict(temperature=0.0), 'temperature'),
    (dict(backend='exact'), 'backend'),
    (dict(composition='parallel'), 'composition'),
    (dict(gate_input='prob'), 'gate_input'),
    (dict(cutout_size=0), 'cutout_size'),
    (dict(mean=[0.0]), 'mean and std'),
])
def test_bad_settings_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LearnableAugmentPolicy(**dict(dict(backend='analytic'), **kwargs))


def test_missing_op_net_checkpoint_says_how_to_fit_one(tmp_path):
    with pytest.raises(FileNotFoundError, match='fit_op_nets.py'):
        LearnableAugmentPolicy(backend='neural', op_net_ckpt=str(tmp_path / 'none.pth'))


def test_a_subset_of_ops():
    policy = LearnableAugmentPolicy(ops=['Rotate', 'Invert'], solve_number=2,
                                    backend='analytic')
    assert policy.magnitude_logits.shape == (1, )
    assert policy(images()).shape == (4, 3, 24, 24)


def test_sample_grid_is_written(tmp_path):
    from mmtst.visualization import sample_grid
    policy = LearnableAugmentPolicy(backend='analytic').eval()
    x = images(n=6, c=1)
    out = sample_grid(x, policy(x), str(tmp_path / 'grid.png'), columns=3)
    assert (tmp_path / 'grid.png').stat().st_size > 0 and out.endswith('grid.png')

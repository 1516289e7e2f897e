"""TST's augmenter on its own: parameters, gates, determinism, errors."""
import pytest
import torch

from mmtst.models.augmenters import (ALL_OPS, MAGNITUDE_OPS,
                                     LearnableAugmentPolicy)


def images(n=4, c=3, size=24):
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(
        torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing='ij')
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
    x = images(n=16, c=channels)
    torch.manual_seed(0)
    # a gate drawn once per batch can saturate (sigmoid at 1.0 in float32:
    # no gradient), so accumulate over a few batches
    for _ in range(8):
        out = policy(x)
        assert out.shape == x.shape
        (out * torch.randn_like(out)).sum().backward()
    # analytic Color (saturation) is exactly the identity on grey images,
    # so neither its p nor its m matters there; its fitted net is not exact

    def expected(ops):
        return torch.tensor([
            channels == 3 or backend == 'neural' or op != 'Color' for op in ops
        ])

    p_grad = policy.probability_logits.grad
    m_grad = policy.magnitude_logits.grad
    assert torch.equal(p_grad != 0,
                       expected(ALL_OPS)), dict(zip(ALL_OPS, p_grad.tolist()))
    assert torch.equal(m_grad != 0, expected(MAGNITUDE_OPS)), dict(
        zip(MAGNITUDE_OPS, m_grad.tolist()))


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
    # per-sample gates: 20000 draws per op in one call
    faithful = LearnableAugmentPolicy(
        backend='analytic', gate_granularity='sample')
    textbook = LearnableAugmentPolicy(
        backend='analytic', gate_input='logit', gate_granularity='sample')
    with torch.no_grad():
        for policy in (faithful, textbook):
            policy.probability_logits.fill_(-2.0)  # p = 0.12
    torch.manual_seed(0)
    rate_faithful = faithful.eval()._gates(faithful.gate_logits(),
                                           20000).mean()
    rate_textbook = textbook.eval()._gates(textbook.gate_logits(),
                                           20000).mean()
    p = torch.sigmoid(torch.tensor(-2.0))
    assert rate_textbook == pytest.approx(p.item(), abs=0.01)
    assert rate_faithful == pytest.approx(torch.sigmoid(p).item(), abs=0.01)


def test_normalised_input_round_trips():
    mean, std = [120.0, 110.0, 100.0], [60.0, 55.0, 50.0]
    policy = LearnableAugmentPolicy(
        backend='analytic', mean=mean, std=std, gate_input='logit')
    with torch.no_grad():
        policy.probability_logits.fill_(-1e4)  # gates 0: the identity
    pixels = images()
    normalised = (pixels * 255 - torch.tensor(mean).view(1, 3, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(policy(normalised), normalised, atol=1e-4)


def test_sequential_composition_differs_from_residual():
    x = images()
    residual = LearnableAugmentPolicy(
        backend='analytic', solve_number=14).eval()
    sequential = LearnableAugmentPolicy(
        backend='analytic', solve_number=14, composition='sequential').eval()
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
    (dict(gate_granularity='image'), 'gate_granularity'),
    (dict(magnitude_sign='signed'), 'magnitude_sign'),
    (dict(fill='grey'), 'fill'),
    (dict(cutout_centre='image'), 'cutout_centre'),
    (dict(neural_apply_prob=1.5), 'neural_apply_prob'),
    (dict(probability_logit_bound=0.0), 'probability_logit_bound'),
])
def test_bad_settings_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LearnableAugmentPolicy(**dict(dict(backend='analytic'), **kwargs))


def test_a_probability_logit_bound_keeps_p_movable():
    """Free logits (the paper) that steps pushed to 12 leave p at 1 for
    good; with probability_logit_bound=2 the next draw projects them to 2,
    p stays at most sigmoid(2), and the objective can bring p back."""
    x = images(n=4, c=1)

    def pushed_then_pulled_back(**kwargs):
        policy = LearnableAugmentPolicy(
            backend='analytic', gate_input='logit', **kwargs)
        optimizer = torch.optim.SGD(policy.parameters(), lr=1.0)
        with torch.no_grad():
            policy.probability_logits.fill_(12.0)  # an op locked fully on
        for _ in range(20):  # an objective that now wants every op off
            policy(x)  # a draw: the bounded policy projects here
            optimizer.zero_grad()
            policy.probabilities().sum().backward()
            optimizer.step()
        return policy

    free = pushed_then_pulled_back()
    assert (free.probabilities() > 0.999).all()

    bounded = pushed_then_pulled_back(probability_logit_bound=2.0)
    assert (bounded.probabilities() < 0.5).all()
    # between a step and the next draw the parameter may leave [-2, 2]; p
    # (and the gate logits) are read clamped all the same
    with torch.no_grad():
        bounded.probability_logits[0] = -7.0
    low = torch.sigmoid(torch.tensor(-2.0))
    assert torch.isclose(bounded.probabilities()[0], low)
    assert bounded.gate_logits()[0] == -2.0
    bounded(x)
    assert bounded.probability_logits.abs().max() <= 2.0


def test_missing_op_net_checkpoint_says_how_to_fit_one(tmp_path):
    with pytest.raises(FileNotFoundError, match='fit_op_nets.py'):
        LearnableAugmentPolicy(
            backend='neural', op_net_ckpt=str(tmp_path / 'none.pth'))


def test_a_subset_of_ops():
    policy = LearnableAugmentPolicy(
        ops=['Rotate', 'Invert'], solve_number=2, backend='analytic')
    assert policy.magnitude_logits.shape == (1, )
    assert policy(images()).shape == (4, 3, 24, 24)


def test_sample_grid_is_written(tmp_path):
    from mmtst.visualization import fired_ops, sample_grid
    policy = LearnableAugmentPolicy(backend='analytic').eval()
    x = images(n=6, c=1)
    augmented = policy(x)
    # the picked ops and their hard eval-mode gates, per image
    assert len(policy.last_draws) == policy.solve_number
    assert all(name in policy.ops and gate.shape == (
        6, ) and set(gate.tolist()) <= {0.0, 1.0}
               for name, gate in policy.last_draws)
    fired = {name for name, gate in policy.last_draws if gate[0] == 1}
    assert set(fired_ops(policy.last_draws, 0).split('\n')) == (fired or {'-'})
    labels = [fired_ops(policy.last_draws, i) for i in range(6)]
    out = sample_grid(
        x, augmented, str(tmp_path / 'grid.png'), columns=3, labels=labels)
    assert (tmp_path /
            'grid.png').stat().st_size > 0 and out.endswith('grid.png')


# --------------------------------------------------------------------------
# The authors' behaviour as defaults, ours as options (METHOD.md 1.5)
# --------------------------------------------------------------------------
def one_op(op, **kwargs):
    """A policy that always applies ``op`` (gate logit +30: fires surely)."""
    policy = LearnableAugmentPolicy(
        ops=[op],
        solve_number=1,
        gate_input='logit',
        **dict(dict(backend='analytic'), **kwargs))
    with torch.no_grad():
        policy.probability_logits.fill_(30.0)
    return policy


@pytest.mark.parametrize('mode', ['train', 'eval'])
def test_gates_are_drawn_once_per_batch_by_default(mode):
    policy = LearnableAugmentPolicy(backend='analytic')
    policy.train(mode == 'train')
    gates = policy._gates(policy.gate_logits(), 64)
    assert gates.shape == (14, 64)
    assert torch.equal(gates, gates[:, :1].expand(-1, 64))  # one value per op
    per_sample = LearnableAugmentPolicy(
        backend='analytic', gate_granularity='sample')
    per_sample.train(mode == 'train')
    gates = per_sample._gates(per_sample.gate_logits(), 64)
    assert not torch.equal(gates, gates[:, :1].expand(-1, 64))


def test_magnitudes_are_fed_positive_by_default():
    """Brightness only brightens (the authors feed m as is); with random
    signs some samples darken."""
    x = images(n=32, c=3) * 0.6
    assert (one_op('Brightness')(x) >= x - 1e-6).all()
    darker = (one_op('Brightness', magnitude_sign='random')(x) < x - 1e-3)
    assert darker.flatten(1).any(1).float().mean() > 0.2


def test_a_positive_rotation_is_the_same_warp_for_every_sample():
    policy = one_op('Rotate')
    m = policy.geometric_matrix('Rotate', torch.ones(8), 24, 24)
    assert torch.allclose(m, m[:1].expand_as(m))
    signs = torch.tensor([1.0, -1.0] * 4)
    m = policy.geometric_matrix('Rotate', signs, 24, 24)
    assert not torch.allclose(m[0], m[1])


@pytest.mark.parametrize('op', ['TranslateX', 'Cutout'])
def test_warps_and_cutout_fill_with_the_dataset_mean(op):
    x = torch.ones(4, 3, 24, 24)
    policy = one_op(op, cutout_size=8)
    with torch.no_grad():
        policy.magnitude_logits.fill_(30.0)  # translate by 45% of the side
    policy.set_dataset_mean([51.0, 102.0, 153.0])  # 0.2, 0.4, 0.6
    out = policy(x).detach()
    changed = (out - x).abs().sum(1) > 1e-6
    assert changed.any()
    filled = out.permute(0, 2, 3, 1)[changed]
    fill = torch.tensor([0.2, 0.4, 0.6]).expand_as(filled)
    exact = ((filled - fill).abs() < 1e-5).all(1)
    # pixels wholly outside the source are the fill; the one bilinear
    # column on the edge blends fill and image
    assert exact.float().mean() > 0.85
    assert ((filled >= fill - 1e-5) & (filled <= 1 + 1e-5)).all()
    black = one_op(op, cutout_size=8, fill='black')
    with torch.no_grad():
        black.magnitude_logits.fill_(30.0)
    assert black(x).min().item() == pytest.approx(0.0, abs=1e-6)


def test_fill_is_zero_in_normalised_units():
    """For normalised input the fill is the normalisation's mean, i.e. 0."""
    mean, std = [120.0, 110.0, 100.0], [60.0, 55.0, 50.0]
    policy = one_op('Cutout', cutout_size=8, mean=mean, std=std)
    x = torch.full((2, 3, 24, 24), 1.5)
    out = policy(x)
    assert ((out == 1.5) |
            (out.abs() < 1e-5)).all() and (out.abs() < 1e-5).any()


def test_grey_images_fill_with_the_grey_of_an_rgb_mean():
    policy = one_op('Cutout', cutout_size=8)
    policy.set_dataset_mean([30.0, 60.0, 90.0])
    out = policy(torch.ones(2, 1, 24, 24))
    assert torch.isclose(out, torch.tensor(60.0 / 255)).any()


def test_cutout_square_is_shared_by_the_batch_by_default():
    x = torch.ones(16, 1, 24, 24)
    erased = one_op('Cutout', cutout_size=8, fill='black')(x) == 0
    assert torch.equal(erased, erased[:1].expand_as(erased))
    erased = one_op(
        'Cutout', cutout_size=8, fill='black', cutout_centre='sample')(x) == 0
    assert not torch.equal(erased, erased[:1].expand_as(erased))


def test_output_is_not_clamped_unless_asked():
    x = images(n=8, c=3)
    policy = LearnableAugmentPolicy(
        ops=['Brightness', 'Contrast', 'Sharpness'],
        solve_number=3,
        backend='analytic',
        gate_input='logit')
    with torch.no_grad():
        policy.probability_logits.fill_(30.0)
        policy.magnitude_logits.fill_(30.0)
    out = policy(x)  # summed residuals of three brightening ops
    assert out.max() > 1.0
    policy.clamp = True
    assert policy(x).max() <= 1.0


def test_shipped_op_nets_transform_at_least_95_percent_of_augmented_samples():
    """Share of the augmented half that differs from its original, at init
    (p = m = 0.5, per-batch gates, K = 4), with the shipped neural nets:
    the authors' nets transform 96.5-99.7% of samples each."""
    policy = LearnableAugmentPolicy(backend='neural')
    torch.manual_seed(0)
    x = images(n=32, c=1)
    shares = []
    with torch.no_grad():
        for _ in range(200):
            out = policy(x)
            shares.append(((out - x).abs().flatten(1).max(1).values
                           > 1e-4).float().mean())
    share = torch.stack(shares).mean().item()
    assert share >= 0.95, share
    old = LearnableAugmentPolicy(backend='neural', neural_apply_prob=0.5)
    torch.manual_seed(0)
    with torch.no_grad():
        old_share = torch.stack([((old(x) - x).abs().flatten(1).max(1).values
                                  > 1e-4).float().mean()
                                 for _ in range(200)]).mean().item()
    assert old_share < share

"""Tests of the TST authors' op nets and their checkpoint converter.

TST (Shao et al., IJCAI 2023, Sec. 3.2) imitates the magnitude ops with tiny
pre-fitted nets; the authors publish theirs as one state dict per op. These
tests build such a folder with random tensors of the authors' exact keys and
shapes, convert it with ``tools/model_converters/tst_opnets_to_mmtst.py``,
load it through ``NeuralOpBank`` and compare with an independent reference
written here from the authors' formulas. CPU-only and fast.
"""
import importlib.util
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmtst.models.augmenters.authors_op_nets import (DATASET_STATS,
                                                     AuthorsColourNet,
                                                     AuthorsGeometricNet)
from mmtst.models.augmenters.neural_ops import NeuralOpBank
from mmtst.models.augmenters.op_net_checkpoint import SHIPPED_OP_NETS
from mmtst.models.augmenters.op_nets import (ColourOpNet, GeometricOpNet,
                                             build_op_net)
from mmtst.models.augmenters.op_specs import (COLOUR_OPS, GEOMETRIC_OPS,
                                              MAGNITUDE_OPS, OP_SPECS)

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'tst_opnets_to_mmtst.py'
BIG = 100.0  # an apply logit that makes the relaxed-Bernoulli gate 1


@pytest.fixture(autouse=True)
def _light_and_seeded():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def load_tool():
    """The converter as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location('tst_opnets_to_mmtst', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def authors_state(name: str, logit: float) -> 'OrderedDict[str, torch.Tensor]':
    """A random state dict with the keys (and order) of the authors'
    ``FreezeSTN`` / ``ColorAugmentation`` ``state_dict()``."""
    if OP_SPECS[name].kind == 'geometric':
        return OrderedDict([
            ('H', torch.randn(6)),
            ('logits', torch.tensor([logit])),
            ('i_matrix', torch.tensor([[[1., 0., 0.], [0., 1., 0.]]])),
            ('fc.weight', 0.1 * torch.randn(6, 7)),
            ('fc.bias',
             torch.tensor([1., 0., 0., 0., 1., 0.]) + 0.05 * torch.randn(6)),
        ])
    return OrderedDict([
        ('scale', 1 + 0.2 * torch.randn(1)),
        ('logits', torch.tensor([logit])),
        ('feature', torch.randn(10)),
        ('n_regress.weight', 0.3 * torch.randn(2, 11)),
        ('c_regress.weight', 0.3 * torch.randn(2, 11)),
        ('conv.weight', 0.1 * torch.randn(3, 3, 5, 5)),
    ])


def write_authors_dir(folder: Path, logit: float = BIG) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    states = {}
    for name in MAGNITUDE_OPS:
        states[name] = authors_state(name, logit)
        torch.save(states[name], folder / f'{name}.pth')
    return states


@pytest.fixture
def authors_dir(tmp_path):
    folder = tmp_path / 'Augmentation'
    return folder, write_authors_dir(folder)


@pytest.fixture
def converted(authors_dir, tmp_path):
    folder, states = authors_dir
    out = tmp_path / 'converted.pth'
    load_tool().main([str(folder), str(out)])
    return out, states


def smooth_images(num: int, channels: int = 3, size: int = 16) -> torch.Tensor:
    noise = torch.rand(num, channels, size // 4, size // 4)
    return F.interpolate(
        noise, size=(size, size), mode='bilinear',
        align_corners=False).clamp(0, 1)


# ----------------------------------------------------------------- reference
# Written from the authors' formulas (STN.py FreezeSTN, COLOR.py
# ColorAugmentation) on normalised images, noise off, gate at 1.


def normalise(img, dataset_type='CIFAR'):
    mean, std = (
        torch.tensor(v).view(1, 3, 1, 1) for v in DATASET_STATS[dataset_type])
    return (img - mean) / std, mean, std


def reference_geometric(state, img, m):
    x, mean, std = normalise(img)
    h = torch.cat([state['H'], torch.tensor([m])]).view(1, 7)
    theta = (h @ state['fc.weight'].t() + state['fc.bias']).view(1, 2, 3)
    theta = theta.expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(
        x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return out * std + mean, theta


def reference_colour(state, img, m, gate=1.0, dataset_type='CIFAR', mask=True):
    x, mean, std = normalise(img, dataset_type)
    z = torch.cat([state['feature'], torch.tensor([m])]).view(1, 11)
    g = z @ state['n_regress.weight'].t()
    c = z @ state['c_regress.weight'].t()
    scale = torch.sigmoid(g[0, 0] + c[0, 0])
    shift = torch.sigmoid(g[0, 1] + c[0, 1])
    scale = state['scale'][0] * (scale - 0.5) + 1
    shift = shift - 0.5
    scale = 1 - gate + gate * scale
    shift = gate * shift
    zero = x.sum(1, keepdim=True) == 0
    keep_rows = ~zero.all(dim=3, keepdim=True)
    keep_cols = ~zero.all(dim=2, keepdim=True)
    y = scale * x + shift
    if mask:
        y = y * (keep_rows & keep_cols)
    out = F.conv2d(y, state['conv.weight'], padding=2)
    return out * std + mean


# --------------------------------------------------------------------- tests


def test_round_trip(converted):
    out, states = converted
    raw = torch.load(out, map_location='cpu', weights_only=True)
    assert set(raw) == {'state_dict', 'meta'}
    assert raw['meta']['arch'] == 'authors'
    assert raw['meta']['dataset_type'] == 'CIFAR'
    assert raw['meta']['ops'] == list(MAGNITUDE_OPS)
    bank = NeuralOpBank(MAGNITUDE_OPS, apply_prob=0.5)
    bank.load_fitted(str(out))
    assert bank.arch == 'authors' and bank.dataset_type == 'CIFAR'
    assert bank.checkpoint == str(out)
    for name in MAGNITUDE_OPS:
        net = bank.net(name)
        cls = (
            AuthorsGeometricNet if name in GEOMETRIC_OPS else AuthorsColourNet)
        assert type(net) is cls
        own = net.state_dict()
        assert list(own) == list(states[name])  # the authors' exact keys
        for key, value in states[name].items():
            assert torch.equal(own[key], value), (name, key)
            assert torch.equal(raw['state_dict'][f'nets.{name}.{key}'], value)
    assert not any(p.requires_grad for p in bank.parameters())


def test_converter_subprocess(authors_dir, tmp_path):
    folder, states = authors_dir
    out = tmp_path / 'sub' / 'imagenet.pth'
    result = subprocess.run([
        sys.executable,
        str(TOOL),
        str(folder),
        str(out), '--dataset-type', 'ImageNet'
    ],
                            capture_output=True,
                            text=True,
                            cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    for name in MAGNITUDE_OPS:
        assert name in result.stdout
    assert '100.000' in result.stdout and '100.00%' in result.stdout
    assert not list(out.parent.glob('.tmp-*'))
    bank = NeuralOpBank(checkpoint=str(out))
    assert bank.arch == 'authors' and bank.dataset_type == 'ImageNet'
    mean = torch.tensor(DATASET_STATS['ImageNet'][0])
    assert torch.allclose(bank.net('Rotate').fill(), mean)
    # the ImageNet statistics are used for the normalisation
    bank.eval()
    img = smooth_images(2)
    got = bank.apply_op('Brightness', img, torch.tensor(0.3), torch.ones(2))
    expected = reference_colour(
        states['Brightness'], img, 0.3, dataset_type='ImageNet')
    assert torch.allclose(got, expected, atol=1e-5)
    cifar = reference_colour(states['Brightness'], img, 0.3)
    assert not torch.allclose(got, cifar, atol=1e-3)


@pytest.mark.parametrize('name', GEOMETRIC_OPS)
def test_geometric_matches_reference(converted, name):
    out, states = converted
    bank = NeuralOpBank(checkpoint=str(out)).eval()
    img = smooth_images(3)
    m = 0.7
    expected, theta = reference_geometric(states[name], img, m)
    ones = torch.ones(3)
    assert torch.allclose(
        bank.theta(name, torch.tensor(m), ones), theta, atol=1e-6)
    got = bank.apply_op(name, img, torch.tensor(m), ones)
    assert torch.allclose(got, expected, atol=1e-5)
    # signed op: sign -1 feeds -m, as the authors' fitting did
    expected_neg, _ = reference_geometric(states[name], img, -m)
    got_neg = bank.apply_op(name, img, torch.tensor(m), -ones)
    assert torch.allclose(got_neg, expected_neg, atol=1e-5)


@pytest.mark.parametrize('name', COLOUR_OPS)
def test_colour_matches_reference(converted, name):
    out, states = converted
    bank = NeuralOpBank(checkpoint=str(out)).eval()
    img = smooth_images(3)
    # a zero-padding border (normalised value exactly 0 = the dataset mean)
    mean = torch.tensor(DATASET_STATS['CIFAR'][0]).view(1, 3, 1, 1)
    img[:, :, :2, :] = mean
    img[:, :, :, -3:] = mean
    m = 0.4
    expected = reference_colour(states[name], img, m)
    got = bank.apply_op(name, img, torch.tensor(m), torch.ones(3))
    assert torch.allclose(got, expected, atol=1e-5)
    # the mask is active: without it the result differs at the border
    unmasked = reference_colour(states[name], img, m, mask=False)
    assert not torch.allclose(got, unmasked, atol=1e-3)
    assert torch.allclose(
        got[..., 4:-5, :-7], unmasked[..., 4:-5, :-7], atol=1e-5)


def test_gate_closed_and_grey(tmp_path):
    states = write_authors_dir(tmp_path / 'closed', logit=-BIG)
    out = tmp_path / 'closed.pth'
    load_tool().main([str(tmp_path / 'closed'), str(out)])
    bank = NeuralOpBank(checkpoint=str(out)).eval()
    img = smooth_images(2)
    ones = torch.ones(2)
    # gate 0: geometric ops are the identity warp, colour ops only convolve
    theta = bank.theta('Rotate', torch.tensor(0.5), ones)
    assert torch.allclose(theta, bank.net('Rotate').i_matrix.expand(2, 2, 3))
    got = bank.apply_op('Rotate', img, torch.tensor(0.5), ones)
    assert torch.allclose(got, img, atol=1e-5)
    got = bank.apply_op('Color', img, torch.tensor(0.5), ones)
    assert torch.allclose(
        got, reference_colour(states['Color'], img, 0.5, gate=0.0), atol=1e-5)
    # 1-channel images: repeated to RGB, output averaged back
    grey = img[:, :1]
    for name in ('Contrast', 'ShearX'):
        got1 = bank.apply_op(name, grey, torch.tensor(0.5), ones)
        got3 = bank.apply_op(name, grey.expand(-1, 3, -1, -1),
                             torch.tensor(0.5), ones)
        assert got1.shape == grey.shape
        assert torch.allclose(got1, got3.mean(1, keepdim=True), atol=1e-6)


def test_gate_follows_logits_per_sample():
    net = AuthorsGeometricNet().eval()
    with torch.no_grad():
        net.logits.fill_(0.0)
        net.fc.bias.copy_(torch.tensor([0., 1., 0., -1., 0., 0.]))
    theta = net.gated_theta(torch.zeros(4000))
    gate = theta[:, 0, 1]  # 0 in i_matrix, 1 in the op's theta
    assert 0.45 < (gate > 0.5).float().mean() < 0.55
    # near-hard: |logistic noise| < 0.05 * log(99) for ~11% of the draws
    assert ((gate < 0.01) | (gate > 0.99)).float().mean() > 0.85


def test_noise_only_in_training(converted):
    out, _ = converted
    bank = NeuralOpBank(checkpoint=str(out))
    img = smooth_images(2)
    m, ones = torch.tensor(0.5), torch.ones(2)
    for name in ('TranslateX', 'Sharpness'):
        bank.eval()
        a = bank.apply_op(name, img, m, ones)
        b = bank.apply_op(name, img, m, ones)
        assert torch.equal(a, b)
        bank.train()
        c = bank.apply_op(name, img, m, ones)
        assert not torch.equal(a, c)
        assert (a - c).abs().max() < 0.2


def test_gradient_reaches_magnitude(converted):
    out, _ = converted
    bank = NeuralOpBank(checkpoint=str(out)).freeze()
    img = smooth_images(2)
    for name in ('Rotate', 'Solarize', 'Brightness'):
        m = torch.tensor(0.5, requires_grad=True)
        bank.apply_op(name, img, m, torch.ones(2)).square().sum().backward()
        assert m.grad is not None and torch.isfinite(m.grad)
        assert m.grad.abs() > 0, name
    m = torch.tensor(0.5, requires_grad=True)
    bank.theta('ShearY', m, torch.ones(2)).sum().backward()
    assert m.grad.abs() > 0


def test_policy_call_sequence(converted):
    """The calls LearnableAugmentPolicy makes work for the authors' arch."""
    out, _ = converted
    bank = NeuralOpBank(MAGNITUDE_OPS, apply_prob=0.5)
    bank.load_fitted(str(out))
    bank.freeze()
    img = smooth_images(2)
    m = torch.tensor(0.5, requires_grad=True)
    sign = torch.ones(2)
    for name in MAGNITUDE_OPS:
        assert bank.apply_op(name, img, m, sign).shape == img.shape
    for name in GEOMETRIC_OPS:
        assert bank.theta(name, m, sign).shape == (2, 2, 3)
    with pytest.raises(ValueError, match='not a geometric op'):
        bank.theta('Color', m, sign)


def test_policy_builds_with_converted(converted):
    from mmtst.models.augmenters import LearnableAugmentPolicy
    out, _ = converted
    policy = LearnableAugmentPolicy(backend='neural', op_net_ckpt=str(out))
    assert policy.op_nets.arch == 'authors'
    img = smooth_images(2)
    assert policy(img).shape == img.shape


def test_shipped_checkpoint_still_mmtst(converted):
    bank = NeuralOpBank(checkpoint=SHIPPED_OP_NETS)
    assert bank.arch == 'mmtst'
    state = torch.load(SHIPPED_OP_NETS, map_location='cpu', weights_only=True)
    img = smooth_images(3)
    sign = torch.tensor([1.0, -1.0, 1.0])
    for name in ('Rotate', 'Contrast'):
        net = bank.net(name)
        assert isinstance(net, (GeometricOpNet, ColourOpNet))
        ref = build_op_net(name, apply_prob=0.5)
        ref.load_state_dict({
            k[len(f'nets.{name}.'):]: v
            for k, v in state.items() if k.startswith(f'nets.{name}.')
        })
        torch.manual_seed(3)
        got = bank.apply_op(name, img, torch.tensor(0.6), sign)
        torch.manual_seed(3)
        assert torch.equal(got, ref(img, torch.tensor(0.6), sign))
    # switching arch both ways on one bank
    out, _ = converted
    bank.load_fitted(str(out))
    assert bank.arch == 'authors'
    bank.load_fitted(SHIPPED_OP_NETS)
    assert bank.arch == 'mmtst' and isinstance(
        bank.net('Rotate'), GeometricOpNet)
    assert bank.dataset_type is None
    assert not any(p.requires_grad for p in bank.parameters())


# ------------------------------------------------------------ bad inputs


def test_converter_missing_file(authors_dir, tmp_path):
    folder, _ = authors_dir
    (folder / 'Solarize.pth').unlink()
    with pytest.raises(FileNotFoundError, match='Solarize.pth not found'):
        load_tool().main([str(folder), str(tmp_path / 'x.pth')])
    assert not (tmp_path / 'x.pth').exists()
    result = subprocess.run(
        [sys.executable,
         str(TOOL),
         str(folder),
         str(tmp_path / 'x.pth')],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300)
    assert result.returncode == 2
    assert 'Solarize.pth not found' in result.stderr
    assert 'Traceback' not in result.stderr


def test_converter_bad_files(authors_dir, tmp_path):
    folder, states = authors_dir
    tool = load_tool()
    out = str(tmp_path / 'x.pth')
    torch.save(states['Color'], folder / 'ShearX.pth')  # wrong net
    with pytest.raises(
            ValueError,
            match=r'ShearX\.pth is not the authors\' '
            r'FreezeSTN.*missing keys'):
        tool.main([str(folder), out])
    state = authors_state('ShearX', 1.0)
    state['fc.weight'] = torch.zeros(6, 8)
    torch.save(state, folder / 'ShearX.pth')
    with pytest.raises(ValueError, match=r'fc\.weight has shape \(6, 8\)'):
        tool.main([str(folder), out])
    (folder / 'ShearX.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match=r'cannot read .*ShearX\.pth'):
        tool.main([str(folder), out])
    torch.save([1, 2], folder / 'ShearX.pth')
    with pytest.raises(ValueError, match='holds a list'):
        tool.main([str(folder), out])
    with pytest.raises(FileNotFoundError, match='not a directory'):
        tool.main([str(tmp_path / 'nowhere'), out])
    with pytest.raises(SystemExit):
        tool.main([str(folder), out, '--dataset-type', 'COCO'])
    assert not (tmp_path / 'x.pth').exists()


def test_load_fitted_bad_meta(converted, tmp_path):
    out, _ = converted
    raw = torch.load(out, map_location='cpu', weights_only=True)
    bank = NeuralOpBank()

    def write(obj):
        path = tmp_path / 'bad.pth'
        torch.save(obj, path)
        return str(path)

    with pytest.raises(ValueError, match="unknown meta\\[\"arch\"\\] 'foo'"):
        bank.load_fitted(write(dict(raw, meta=dict(raw['meta'], arch='foo'))))
    with pytest.raises(ValueError, match='dataset_type'):
        bank.load_fitted(
            write(dict(raw, meta=dict(raw['meta'], dataset_type='COCO'))))
    with pytest.raises(ValueError, match='should be'):
        bank.load_fitted(write(dict(meta=raw['meta'], state_dict=[1])))
    state = dict(raw['state_dict'])
    del state['nets.Rotate.H']
    with pytest.raises(
            ValueError, match=r"missing keys \['nets\.Rotate\.H'\]"):
        bank.load_fitted(write(dict(raw, state_dict=state)))
    # an authors' state dict without meta is taken as mmtst's: clear error
    with pytest.raises(ValueError, match='does not match NeuralOpBank'):
        bank.load_fitted(write(raw['state_dict']))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        bank.load_fitted(str(tmp_path / 'missing.pth'))
    # a failed load leaves a usable bank
    bank.load_fitted(SHIPPED_OP_NETS)
    assert bank.arch == 'mmtst'

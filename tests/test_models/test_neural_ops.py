"""Tests of TST's neural op nets (Shao et al., IJCAI 2023, Sec. 3.2).

Fast and CPU-only: no fitting longer than a few dozen iterations; the
checkpoint checks use the shipped, pre-fitted weights.
"""
import importlib.util
import os
import os.path as osp
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmtst.models.augmenters.neural_ops import NeuralOpBank
from mmtst.models.augmenters.op_net_checkpoint import SHIPPED_OP_NETS
from mmtst.models.augmenters.op_net_fitting import (autoaugment_op,
                                                    autoaugment_op_batch,
                                                    fit_op_net)
from mmtst.models.augmenters.op_nets import (ColourOpNet, GeometricOpNet,
                                             build_op_net)
from mmtst.models.augmenters.op_specs import (COLOUR_OPS, GEOMETRIC_OPS,
                                              MAGNITUDE_OPS, OP_SPECS)

ROOT = Path(__file__).resolve().parents[2]
FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
needs_fashion_mnist = pytest.mark.skipif(
    not osp.isfile(osp.join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz')),
    reason=f'Fashion-MNIST not found under {FASHION_MNIST}')


@pytest.fixture(autouse=True)
def _light_and_seeded():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def load_tool():
    """tools/fit_op_nets.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        'fit_op_nets', ROOT / 'tools' / 'fit_op_nets.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def smooth_images(num: int, channels: int, size: int = 24) -> torch.Tensor:
    """Random but spatially smooth images in [0, 1] (blurred noise), so
    warps and blurs change them measurably."""
    noise = torch.rand(num, channels, size // 4, size // 4)
    return F.interpolate(
        noise, size=(size, size), mode='bilinear',
        align_corners=False).clamp(0, 1)


def alternating_signs(num: int) -> torch.Tensor:
    return torch.tensor([1.0, -1.0]).repeat((num + 1) // 2)[:num]


def perturb(module: torch.nn.Module, std: float = 0.05) -> None:
    """Move an unfitted net off the identity so its output depends on the
    magnitude (at init the magnitude weights are zero)."""
    with torch.no_grad():
        for param in module.parameters():
            param.add_(std * torch.randn_like(param))


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('magnitude', [0.0, 0.5, 1.0])
def test_geometric_net_starts_at_identity(magnitude):
    img = smooth_images(3, 3)
    sign = alternating_signs(3)
    net = GeometricOpNet(noise_std=0.01).eval()  # eval: noise off
    out = net(img, torch.tensor(magnitude), sign)
    assert torch.allclose(out, img, atol=1e-5)
    theta = net.theta(magnitude * sign)
    assert torch.allclose(theta, net.identity.expand(3, 2, 3))


@pytest.mark.parametrize('channels', [1, 3])
@pytest.mark.parametrize('magnitude', [0.0, 0.5, 1.0])
def test_colour_net_starts_at_identity(channels, magnitude):
    img = smooth_images(3, channels)
    net = ColourOpNet(noise_std=0.01).eval()
    out = net(img, torch.tensor(magnitude), alternating_signs(3))
    assert torch.allclose(out, img, atol=1e-5)


def test_nets_are_small():
    for name in MAGNITUDE_OPS:
        assert sum(p.numel() for p in build_op_net(name).parameters()) < 500


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('name', MAGNITUDE_OPS)
def test_gradient_reaches_magnitude_not_frozen_params(name):
    bank = NeuralOpBank([name], apply_prob=1.0)
    perturb(bank)
    bank.freeze().eval()
    channels = 3 if OP_SPECS[name].kind == 'colour' else 1
    img = smooth_images(4, channels).requires_grad_(True)
    magnitude = torch.tensor(0.5, requires_grad=True)
    out = bank.apply(name, img, magnitude, alternating_signs(4))
    assert out.shape == img.shape
    (out * torch.linspace(0, 1, out.numel()).view_as(out)).sum().backward()
    assert magnitude.grad is not None
    assert torch.isfinite(magnitude.grad) and magnitude.grad.abs() > 0
    assert img.grad is not None and img.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad
               for p in bank.parameters())


def test_unsigned_ops_ignore_sign():
    bank = NeuralOpBank(['Posterize'], apply_prob=1.0)
    perturb(bank)
    bank.eval()
    img = smooth_images(2, 3)
    m = torch.tensor(0.7)
    plus = bank.apply('Posterize', img, m, torch.ones(2))
    assert torch.equal(plus, bank.apply('Posterize', img, m, -torch.ones(2)))
    assert torch.equal(plus, bank.apply('Posterize', img, m, None))


# ---------------------------------------------------------------------------
# Gate, theta, nn.Module.apply
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('name', ['Rotate', 'Brightness'])
def test_apply_gate_skips_about_half(name):
    bank = NeuralOpBank([name], apply_prob=0.5)
    perturb(bank, std=0.5)
    bank.eval()
    channels = 3 if OP_SPECS[name].kind == 'colour' else 1
    img = smooth_images(64, channels)
    out = bank.apply(name, img, torch.tensor(1.0), torch.ones(64))
    unchanged = (out - img).flatten(1).abs().amax(dim=1) < 1e-5
    assert 10 < int(unchanged.sum()) < 54


def test_theta_combines_with_warp():
    bank = NeuralOpBank(GEOMETRIC_OPS, apply_prob=1.0)
    perturb(bank)
    bank.eval()
    img = smooth_images(4, 3)
    m, sign = torch.tensor(0.6), alternating_signs(4)
    theta = bank.theta('Rotate', m, sign)
    assert theta.shape == (4, 2, 3)
    assert torch.allclose(
        GeometricOpNet.warp(img, theta), bank.apply('Rotate', img, m, sign))
    with pytest.raises(ValueError, match='not a geometric op'):
        NeuralOpBank(['Color']).theta('Color', m, sign)


def test_module_apply_still_works():
    bank = NeuralOpBank(['Rotate', 'Color'])
    seen = []
    assert bank.apply(seen.append) is bank
    assert bank in seen and len(seen) > 3


# ---------------------------------------------------------------------------
# The real ops
# ---------------------------------------------------------------------------


def test_real_ops_follow_torchvision_autoaugment():
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.autoaugment import _apply_op
    img = smooth_images(2, 3, size=32)
    for name, m, sign in [('ShearX', 0.5, -1.0), ('TranslateY', 0.7, 1.0),
                          ('Rotate', 0.3, -1.0), ('Contrast', 0.8, 1.0),
                          ('Solarize', 0.4, 1.0)]:
        value = OP_SPECS[name].value(m, sign)
        tv_value = int(value * 32) if name.startswith('Translate') else value
        expected = _apply_op(img, name, tv_value, InterpolationMode.BILINEAR,
                             None)
        assert torch.allclose(autoaugment_op(name, img, value), expected)
    # Posterize: bits 8 - 4 m rounded, on the uint8 image
    img8 = (img * 255).round().to(torch.uint8)
    expected = _apply_op(img8, 'Posterize', 6, None, None).float() / 255
    assert torch.allclose(
        autoaugment_op('Posterize', img8 / 255.0, 6.0), expected)


def test_real_op_batch_groups_per_sample_values():
    img = smooth_images(4, 1)
    m = torch.tensor([0.2, 0.2, 0.9, 0.9])
    sign = torch.tensor([1.0, -1.0, 1.0, 1.0])
    out = autoaugment_op_batch('Rotate', img, m, sign)
    for i in range(4):
        value = OP_SPECS['Rotate'].value(float(m[i]), float(sign[i]))
        assert torch.allclose(out[i:i + 1],
                              autoaugment_op('Rotate', img[i:i + 1], value))


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def test_missing_checkpoint_raises_clear_error(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError) as err:
        NeuralOpBank().load_fitted(path)
    assert path in str(err.value)
    assert 'python tools/fit_op_nets.py' in str(err.value)


def test_mismatched_checkpoint_raises_clear_error(tmp_path):
    state = NeuralOpBank().state_dict()
    state['nets.Rotate.linear.weight'] = torch.zeros(6, 8)  # wrong shape
    del state['nets.Color.kernel']  # missing
    state['nets.Rotate.extra'] = torch.zeros(1)  # unexpected
    path = str(tmp_path / 'bad.pth')
    torch.save(state, path)
    with pytest.raises(ValueError) as err:
        NeuralOpBank().load_fitted(path)
    message = str(err.value)
    for part in (path, 'nets.Color.kernel', 'nets.Rotate.extra',
                 'nets.Rotate.linear.weight', 'python tools/fit_op_nets.py'):
        assert part in message


def test_not_a_state_dict_raises_clear_error(tmp_path):
    path = str(tmp_path / 'list.pth')
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match='not a state dict'):
        NeuralOpBank().load_fitted(path)
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='Cannot read'):
        NeuralOpBank().load_fitted(str(garbage))


def test_shipped_checkpoint_loads_frozen():
    assert osp.getsize(SHIPPED_OP_NETS) < 50 * 1024
    bank = NeuralOpBank(checkpoint=SHIPPED_OP_NETS)
    assert bank.checkpoint == SHIPPED_OP_NETS
    assert bank.ops == MAGNITUDE_OPS
    assert all(not p.requires_grad for p in bank.parameters())
    # a bank of some ops loads from the full checkpoint
    subset = NeuralOpBank(['Rotate', 'Solarize'], checkpoint=SHIPPED_OP_NETS)
    full = bank.state_dict()
    for key, value in subset.state_dict().items():
        assert torch.equal(value, full[key])


@pytest.fixture(scope='module')
def fashion_mnist_batch():
    tool = load_tool()
    images = tool.read_idx_images(
        osp.join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz'))[:32]
    grey = torch.from_numpy(images.copy()).unsqueeze(1).float() / 255.0
    colour = tool.tint(grey, torch.Generator().manual_seed(0))
    return {'grey': grey, 'colour': colour}


@needs_fashion_mnist
@pytest.mark.parametrize('name', MAGNITUDE_OPS)
def test_shipped_nets_beat_identity(name, fashion_mnist_batch):
    bank = NeuralOpBank([name], apply_prob=1.0,
                        checkpoint=SHIPPED_OP_NETS).eval()
    kind = 'colour' if name in COLOUR_OPS else 'grey'
    x = fashion_mnist_batch[kind]
    m, sign = torch.tensor(0.5), alternating_signs(len(x))
    target = autoaugment_op_batch(name, x, m, sign)
    with torch.no_grad():
        imitation = bank.apply(name, x, m, sign)
    assert F.mse_loss(imitation, target) < F.mse_loss(x, target)


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('name', ['Brightness', 'TranslateX'])
def test_tiny_fit_reduces_loss(name):
    channels = 3 if OP_SPECS[name].kind == 'colour' else 1
    images = smooth_images(64 * 4, channels)
    held_out = smooth_images(32, channels)
    m, sign = torch.full((32, ), 0.8), alternating_signs(32)
    target = autoaugment_op_batch(name, held_out, m, sign)
    net = build_op_net(name)

    def held_out_loss():
        with torch.no_grad():
            s = m * sign
            return F.mse_loss(net.eval().forward_signed(held_out, s), target)

    before = held_out_loss()
    losses = fit_op_net(
        net,
        name,
        images,
        epochs=5,
        max_iters=20,
        generator=torch.Generator().manual_seed(0))
    assert len(losses) == 20
    assert held_out_loss() < 0.9 * before


def test_tool_writes_checkpoint_atomically(tmp_path):
    tool = load_tool()
    bank = NeuralOpBank(['Rotate'])
    path = tmp_path / 'sub' / 'nets.pth'
    tool.save_atomically(bank.state_dict(), str(path))
    assert os.listdir(path.parent) == ['nets.pth']
    # readable by others as a plain torch.save file would be (not
    # mkstemp's 0600)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    NeuralOpBank(['Rotate']).load_fitted(str(path))

"""tools/analysis/show_augmented.py: originals above their augmented
versions, each labelled with the ops that fired; boxes (detection) and
label maps (segmentation) drawn before and after the warp."""
import os.path as osp
import sys

import pytest
from conftest import REPO, needs_fashion_mnist
from helpers import load_tool, run_tool
from matplotlib.patches import Rectangle

pytestmark = needs_fashion_mnist


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('show') / 'scenes')
    run_tool(
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), root,
        '--train', '6', '--val', '2', '--seed', '3', '--semantic')
    return root


def show(tmp_path, monkeypatch, config, *options):
    """Run the tool in this process; return the figure it drew."""
    tool = load_tool('tools/analysis/show_augmented.py')
    figures = []
    monkeypatch.setattr(tool.sample_grid.__globals__['plt'], 'close',
                        figures.append)
    monkeypatch.setattr(sys, 'argv', [
        'show_augmented.py',
        osp.join(REPO, config), '--num', '4', '--out',
        str(tmp_path / 'grid.png'), '--cfg-options', *options
    ])
    tool.main()
    assert (tmp_path / 'grid.png').stat().st_size > 0
    return figures[0]


def test_detection_boxes_are_drawn_before_and_after_the_warp(
        tmp_path, monkeypatch, scenes):
    figure = show(
        tmp_path, monkeypatch,
        'configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_'
        'scenes.py', f'train_dataloader.dataset.data_root={scenes}/')
    axes = figure.axes  # rows: originals, augmented, (8 columns)
    original = [a for a in axes[:8] if a.patches]
    augmented = [a for a in axes[8:16] if a.patches]
    assert original and augmented
    assert all(isinstance(p, Rectangle) for a in original for p in a.patches)
    # under each augmented image: the ops that fired (or '-')
    assert all(a.texts for a in axes[8:12])


def test_segmentation_label_maps_are_overlaid(tmp_path, monkeypatch, scenes):
    figure = show(
        tmp_path, monkeypatch,
        'configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_scenes-'
        'seg.py', f'train_dataloader.dataset.data_root={scenes}/')
    # each shown image carries its label map as a second layer
    assert all(len(a.images) == 2 for a in figure.axes[:4])
    assert all(len(a.images) == 2 for a in figure.axes[8:12])

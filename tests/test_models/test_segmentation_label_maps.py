"""Label maps follow TST's geometric warp (nearest neighbour, outside ->
ignore index); colour ops and Cutout leave them alone."""
import torch

from mmtst.models.augmenters import LearnableAugmentPolicy
from mmtst.models.augmenters.affine import affine_matrix, warp
from mmtst.models.task_adapters import warp_label_map, warp_seg_data_samples


def square_map(size=20):
    labels = torch.zeros(1, 1, size, size, dtype=torch.long)
    labels[..., 5:10, 5:10] = 3
    return labels


def test_translate_x_moves_the_square_and_fills_the_border_with_255():
    labels = square_map()
    # x_in = x_out - value * width: value 0.2 of 20 px shifts right by 4
    matrix = torch.tensor([[[1.0, 0.0, -4.0], [0.0, 1.0, 0.0]]])
    out = warp_label_map(labels, matrix)
    assert out.dtype == torch.long and out.shape == labels.shape
    expected = torch.zeros_like(labels)
    expected[..., 5:10, 9:14] = 3
    expected[..., :, :4] = 255  # came from outside the image
    assert torch.equal(out, expected)


def test_same_matrix_as_the_image_and_affine_matrix_convention():
    labels = square_map()
    matrix = affine_matrix('TranslateX', torch.tensor(1.0), None, 20, 20)
    shift = -matrix[0, 0, 2].item()  # pixels moved to the right
    image = (labels == 3).float()
    moved_image = warp(image, matrix, mode='nearest')
    out = warp_label_map(labels, matrix)
    inside = out != 255
    assert torch.equal((out == 3)[inside], (moved_image > 0.5)[inside])
    assert (out[..., :, :int(shift)] == 255).all()


def test_identity_keeps_labels_and_existing_ignore():
    labels = square_map()
    labels[..., 0, 0] = 255
    eye = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    assert torch.equal(warp_label_map(labels[0, 0], eye), labels[0, 0])


def test_colour_ops_and_cutout_leave_labels_alone():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    aug = LearnableAugmentPolicy(
        ops=['Brightness', 'Cutout'],
        backend='analytic',
        gate_input='logit',
        solve_number=2,
        cutout_size=8).eval()
    img = torch.rand(2, 3, 20, 20)
    out, matrices = aug.augment_with_geometry(img)
    assert torch.allclose(
        matrices,
        torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(2, 2, 3))
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=square_map()[0])
        samples.append(sample)
    warped = warp_seg_data_samples(samples, matrices)
    for before, after in zip(samples, warped):
        assert torch.equal(before.gt_sem_seg.data, after.gt_sem_seg.data)
        assert after is not before


def test_data_samples_copies_follow_their_own_matrix():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=square_map()[0])
    matrices = torch.tensor([[[1.0, 0, -4.0], [0, 1.0, 0]],
                             [[1.0, 0, 0], [0, 1.0, 0]]])
    a, b = warp_seg_data_samples([sample, sample], matrices)
    assert (a.gt_sem_seg.data[..., :4] == 255).all()
    assert torch.equal(b.gt_sem_seg.data, sample.gt_sem_seg.data)
    assert not (sample.gt_sem_seg.data == 255).any()  # original untouched

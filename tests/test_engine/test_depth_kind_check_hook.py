"""DepthKindCheckHook: a dataset's depth kinds against the head's
filters, refused before the first iteration."""
import pytest
import torch

from pair_cases import build_filter_head


# ------------------------------------------- 7: refused before training
class ItemList:
    """A dataset of data items (what the RGB-D datasets hold)."""

    def __init__(self, items, depth_kind=None):
        self.data_list = items
        if depth_kind:
            self.depth_kind = depth_kind

    def full_init(self):
        pass


def fake_runner(head, dataset):
    from types import SimpleNamespace
    model = torch.nn.Module()
    model.head = head
    return SimpleNamespace(model=model,
                           train_dataloader=SimpleNamespace(dataset=dataset))


def test_incompatible_dataset_kind_is_refused_before_training():
    from projects.depth_pixpro.engine.hooks import DepthKindCheckHook
    from projects.depth_pixpro.engine.hooks.depth_kind_check_hook import \
        dataset_depth_kinds
    metric = ItemList([dict(img_path='a.jpg', depth_map_path='a.png')])
    mono = ItemList([
        dict(img_path='b.jpg', depth_map_path=None),  # no depth: skipped
        dict(img_path='c.jpg', depth_map_path='c.png', depth_kind='affine'),
    ])
    scaled = ItemList([dict(img_path='d.jpg', depth_map_path='d.png')],
                      depth_kind='scale_free')

    class Concat:  # mmengine's ConcatDataset exposes .datasets
        datasets = [metric, mono, scaled]

    assert dataset_depth_kinds(Concat()) == {
        'metric': ('ItemList', 'a.jpg'),
        'affine': ('ItemList', 'c.jpg'),
        'scale_free': ('ItemList', 'd.jpg'),
    }
    hook = DepthKindCheckHook()
    relative = build_filter_head([dict(type='DepthPairFilter')])
    with pytest.raises(ValueError,
                       match=r"filters\[0\]\.mode='relative' cannot test the "
                       r"'affine' depth of sample 'ItemList: c\.jpg'"):
        hook.before_train(fake_runner(relative, Concat()))
    # mode='auto', or no filter, or no affine item: nothing to refuse
    hook.before_train(fake_runner(
        build_filter_head([dict(type='DepthPairFilter', mode='auto')]),
        Concat()))
    hook.before_train(fake_runner(build_filter_head([]), Concat()))
    hook.before_train(fake_runner(relative, metric))

"""The depth kinds (projects/depth_pixpro/depth_kinds.py): the one table of
kinds and the depth tests each allows, the check at the data boundary, and
the filters' kinds taken from it."""
import pytest

from mmpretrain.registry import MODELS
from projects.depth_pixpro.depth_kinds import (AUTO_MODES, DEPTH_KINDS,
                                               DEPTH_MODES, KIND_MODES,
                                               SCALED_KINDS, check_depth_kind)


def test_kind_table_is_the_documented_one():
    assert DEPTH_KINDS == ('metric', 'inverse', 'scale_free', 'affine')
    assert tuple(KIND_MODES) == DEPTH_KINDS == tuple(AUTO_MODES)
    assert KIND_MODES == {
        'metric': ('relative', 'absolute', 'normalized'),
        'inverse': ('relative', 'normalized'),
        'scale_free': ('relative', 'normalized'),
        'affine': ('normalized', ),
    }
    # auto picks an allowed test; every test is one of the filter's modes
    assert all(AUTO_MODES[k] in KIND_MODES[k] for k in DEPTH_KINDS)
    assert {m for modes in KIND_MODES.values() for m in modes} == \
        set(DEPTH_MODES)
    # known up to a scale: every kind whose relative test means something
    assert SCALED_KINDS == tuple(
        k for k in DEPTH_KINDS if 'relative' in KIND_MODES[k])


def test_check_names_the_source_and_the_kinds():
    for kind in DEPTH_KINDS:
        assert check_depth_kind(kind, 'x') == kind
    with pytest.raises(ValueError,
                       match=r"^cfg\.depth_kind: depth_kind must be one of "
                       r"\('metric', 'inverse', 'scale_free', 'affine'\), "
                       r"got 'relative'$"):
        check_depth_kind('relative', 'cfg.depth_kind')


@pytest.mark.parametrize('cfg,kinds', [
    (dict(type='DepthPairFilter'), DEPTH_KINDS),
    (dict(type='NormalPairFilter'), SCALED_KINDS),
    (dict(type='SurfacePairFilter'), SCALED_KINDS),
])
def test_filters_take_their_kinds_from_the_table(cfg, kinds):
    assert MODELS.build(cfg).depth_kinds == kinds

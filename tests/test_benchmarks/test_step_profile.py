"""benchmarks/step_profile.py's counters and train_step.py's variant
letters and result table (no timing is tested)."""
import pytest
import torch

from benchmarks import step_profile, train_step


def test_count_host_syncs_sees_each_conversion():
    t = torch.ones(3)

    def three():
        float(t.sum())  # .item()-like
        if t.any():  # is_nonzero
            pass
        t.max().item()

    counts = step_profile.count_host_syncs(three)
    assert counts['aten::_local_scalar_dense'] == 3
    assert counts['aten::is_nonzero'] == 1
    assert step_profile.count_host_syncs(lambda: t * 2) == {
        'aten::_local_scalar_dense': 0, 'aten::is_nonzero': 0}


def test_profile_counts_per_step():
    t = torch.ones(3)
    counts = step_profile.profile_counts(lambda: (t + t).relu(), 4,
                                         cuda=False)
    assert counts['syncs'] == 0
    # add; relu, which calls clamp_min (the leaf)
    assert counts['leaf_ops'] == 2. and counts['aten_ops'] == 3.
    assert step_profile.count_python_calls(lambda: [abs(-1)]) >= 1


def test_variant_letters():
    train_step.check_variants('pacC')
    for bad in ('P', 'z', 'aZ'):
        with pytest.raises(ValueError, match='unknown variant'):
            train_step.check_variants(bad)
    assert train_step.label('C') == train_step.LABELS['c'] + ', compiled'
    assert train_step.variant_cfg('c', 'resnet18', 8, 4,
                                  True)['compile_step'] is True
    with pytest.raises(ValueError, match='no DepthPixPro variant'):
        train_step.variant_cfg('p', 'resnet18', 8, 4)


def test_result_table_ratios():
    speeds = dict(p=[10., 10., 12.], a=[8., 8.], C=[12.5])
    table = train_step.result_table(speeds, dict(a=1.5), dict(p=100.), 'paC',
                                    'cpu', dict(p=1., a=1., C=30.))
    rows = table.splitlines()
    assert 'speed vs plain (p)' in rows[0]
    # (a): time ratio 10 / 8 = 1.25, speed ratio 0.8
    assert '| (a) PixPro, 1 scale | 8.0 | 1.250 | 0.800 | 1.50 | - | 1.0 |' \
        in rows
    assert rows[-1].startswith('| (C) depth, 3 scales, compiled | 12.5 | '
                               '0.800 | 1.250 |')
    assert rows[-1].endswith('| 30.0 |')

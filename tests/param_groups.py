"""Checks of an optimizer's parameter groups (the 1-D rule of PixPro's
recipe), shared by the optimizer constructor's and the configs' tests."""


def param_groups(optimizer):
    """{parameter: its group}, every parameter in exactly one group."""
    groups = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            assert param not in groups, 'a parameter in two groups'
            groups[param] = group
    return groups


def check_1d_excluded(model, optimizer, weight_decay):
    """Every trainable 1-D parameter: wd 0 and LARS-excluded; every other
    trainable parameter: the base weight decay and LARS adaptation."""
    groups = param_groups(optimizer)
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert len(groups) == len(trainable)
    n_flat = 0
    for name, param in trainable:
        group = groups[param]
        if param.ndim == 1:
            n_flat += 1
            assert group['weight_decay'] == 0., name
            assert group['lars_exclude'] is True, name
        else:
            assert group['weight_decay'] == weight_decay, name
            assert not group.get('lars_exclude', False), name
    return n_flat

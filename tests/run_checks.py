"""What one real training iteration must have done (beyond ``runner.iter``).

Exact checks on a Runner after ``runner.train()`` of a single iteration:
the logged total loss is the sum of the logged loss terms (mmengine's
``parse_losses``), the optimizer moved the trained weights, and for
DepthPixPro the momentum target is the copy of the online weights as they
were before that step (mmengine copies them at the first update).
"""
import torch
from mmengine.hooks import Hook


class _Snapshot(Hook):
    """Keeps the weights as they enter the first iteration (after
    ``init_weights``, which ``runner.train()`` calls)."""

    def __init__(self, store):
        self.store = store

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if not self.store:
            self.store.update({
                k: v.detach().clone()
                for k, v in runner.model.state_dict().items()
            })


def snapshot(runner):
    """Register a hook; the returned dict fills with the weights of the
    model as the first iteration starts."""
    store = {}
    runner.register_hook(_Snapshot(store))
    return store


def logged(runner):
    """Last logged value of every ``train/*`` scalar."""
    hub = runner.message_hub
    return {
        key[len('train/'):]: buf.current()
        for key, buf in hub.log_scalars.items() if key.startswith('train/')
    }


def assert_one_step(runner, before, trained_prefix, loss_terms):
    """One iteration ran on real data and updated ``trained_prefix``.

    Args:
        before (dict): :func:`snapshot` before ``runner.train()``.
        trained_prefix (str): Parameters that must have moved.
        loss_terms (int): Number of logged loss terms (keys with 'loss'
            besides the total).
    """
    assert runner.iter == 1
    values = logged(runner)
    terms = {k: v for k, v in values.items() if 'loss' in k and k != 'loss'}
    assert len(terms) == loss_terms, sorted(terms)
    assert abs(values['loss'] - sum(terms.values())) < 1e-4 * max(
        1., abs(values['loss']))
    params = dict(runner.model.named_parameters())
    trained = [k for k, p in params.items()
               if k.startswith(trained_prefix) and p.requires_grad]
    moved = [k for k in trained if not torch.equal(params[k], before[k])]
    # zero-initialised residual branches (bn gamma 0) block the gradient of
    # their convolutions in the very first step: most, not all, move
    assert trained and len(moved) > 0.5 * len(trained), \
        f'{len(moved)} of {len(trained)} {trained_prefix}* weights moved'
    return values


def assert_target_is_pre_step_copy(runner, before):
    """DepthPixPro: target = online weights before the (only) step."""
    model = runner.model
    assert int(model.target_net.steps) == 1
    target = model.target_net.module
    for index, name in enumerate(('backbone', 'neck')):
        for key, value in target[index].named_parameters():
            assert torch.equal(value, before[f'{name}.{key}']), key

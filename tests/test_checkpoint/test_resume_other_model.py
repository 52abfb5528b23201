"""Resuming a checkpoint with the config of another method (the weights
fit, e.g. DepthPixPro's resumed as PixPro) is refused."""
import pytest
from mmengine.config import Config

from helpers import load_script, write_tiny_config
from projects.depth_pixpro.checkpoint import ResumeError, check_resume_model

def _train(argv):
    return load_script('tools/train.py', 'train_tool').main(argv)


def _config(tmp_path, name, base, iters):
    return write_tiny_config(tmp_path / f'{name}.py', base, max_iters=iters)


@pytest.mark.slow
def test_depth_pixpro_checkpoint_is_not_resumed_as_pixpro(tmp_path):
    work = tmp_path / 'work'
    depth = _config(tmp_path, 'depth', 'depth_pixpro_synthetic.py', 1)
    _train([depth, '--work-dir', str(work)])
    assert (work / 'iter_1.pth').exists()
    assert not (work / '.train.lock').exists()  # released at the end
    pixpro = _config(tmp_path, 'pixpro', 'pixpro_synthetic.py', 2)
    with pytest.raises(SystemExit) as err:
        _train([pixpro, '--work-dir', str(work), '--resume'])
    message = str(err.value)
    assert message.startswith(f'error: cannot resume from {work}/iter_1.pth: '
                              'it was trained as another model (model.head.'
                              'filters: ')
    assert "'DepthPairFilter'" in message and '[] in the config' in message
    assert 'load_from=' in message
    assert not (work / 'iter_2.pth').exists()
    # the same method resumes (a longer schedule is not another model)
    depth2 = _config(tmp_path, 'depth2', 'depth_pixpro_synthetic.py', 2)
    _train([depth2, '--work-dir', str(work), '--resume'])
    assert (work / 'iter_2.pth').exists()


def _meta(model):
    return dict(cfg=Config(dict(model=model)).pretty_text, iter=1, epoch=0)


def test_what_counts_as_another_model():
    model = dict(type='DepthPixPro',
                 backbone=dict(type='ResNet', depth=18,
                               norm_cfg=dict(type='SyncBN'),
                               init_cfg=dict(type='Pretrained', checkpoint='a')),
                 head=dict(type='MultiScalePixelHead', scales=[
                     dict(spatial_thresh=0.7, weight=1.)]))
    meta = _meta(model)
    same = Config(dict(model=model)).model
    # BN for SyncBN (a CPU run), other init, a data preprocessor: same model
    same.backbone.norm_cfg.type = 'BN'
    same.backbone.init_cfg = None
    same.data_preprocessor = dict(type='SelfSupDataPreprocessor')
    check_resume_model(meta, same, 'ckpt.pth')
    other = Config(dict(model=model)).model
    other.head.scales[0].weight = 0.5
    other.backbone.depth = 34
    with pytest.raises(ResumeError) as err:
        check_resume_model(meta, other, 'ckpt.pth')
    assert 'model.backbone.depth: 18 in the checkpoint, 34 in the config' \
        in str(err.value)
    assert 'model.head.scales: ' in str(err.value)


def test_unreadable_stored_config_is_resumed_with_a_warning(monkeypatch):
    from projects.depth_pixpro.checkpoint import resume
    logged = []
    monkeypatch.setattr(resume, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    check_resume_model(dict(cfg="model = __import__('os')"), dict(type='X'),
                       'ckpt.pth')
    check_resume_model(dict(), dict(type='X'), 'ckpt.pth')
    assert len(logged) == 2
    assert logged[0].startswith("ckpt.pth: its model config cannot be "
                                "compared with this run's (stored config: "
                                'unreadable (line 1:')
    assert 'stored config: none' in logged[1]

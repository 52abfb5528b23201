"""Policies of the test suite itself: a missing fixture is skipped on a
developer's machine and fails in CI; a DeprecationWarning of our package
fails the test (pytest.ini), a third-party one does not."""
import warnings

import pytest

from helpers import require_path


@pytest.mark.parametrize('value', ['true', 'TRUE', '1'])
def test_missing_fixture_fails_under_ci(monkeypatch, tmp_path, value):
    monkeypatch.setenv('CI', value)
    with pytest.raises(pytest.fail.Exception, match='CI=true'):
        require_path(str(tmp_path / 'absent'), 'a fixture')


@pytest.mark.parametrize('value', [None, '', 'false', '0'])
def test_missing_fixture_skips_outside_ci(monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv('CI', raising=False)
    else:
        monkeypatch.setenv('CI', value)
    with pytest.raises(pytest.skip.Exception, match='a fixture not found'):
        require_path(str(tmp_path / 'absent'), 'a fixture')


def test_present_fixture_is_returned_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv('CI', 'true')
    (tmp_path / 'here').mkdir()
    monkeypatch.chdir(tmp_path)
    assert require_path('here', 'a fixture') == str(tmp_path / 'here')


def _deprecation_from(module):
    warnings.warn_explicit('an old name', DeprecationWarning,
                           module.replace('.', '/') + '.py', 1, module=module)


def test_deprecation_warnings_of_the_package_are_errors():
    with pytest.raises(DeprecationWarning, match='an old name'):
        _deprecation_from('projects.depth_pixpro.datasets.depth_io')
    with pytest.raises(DeprecationWarning, match='an old name'):
        _deprecation_from('projects.depth_pixpro')


def test_deprecation_warnings_of_other_packages_are_ignored():
    with warnings.catch_warnings(record=True) as caught:
        # keep the filters pytest installed from pytest.ini
        _deprecation_from('mmengine.utils')
    assert caught == []

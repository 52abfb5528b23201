"""Missing test fixtures: skipped on a developer's machine, failed in CI."""
import pytest
from conftest import require_path


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

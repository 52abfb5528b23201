"""The README and docs/: every relative link reaches a file (and a heading,
when it names one), and the README stays a guide."""
import glob
import os.path as osp
import re

import pytest

from helpers import REPO_ROOT

DOCS = ['README.md', 'benchmarks/README.md'] + sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))
#: [text](target) and ![alt](target), outside code blocks.
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
#: The README keeps the user's guide; results and development live in docs/.
README_MAX_LINES = 450


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code."""
    text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
    return re.sub(r'`[^`\n]*`', '', text)


def heading_anchors(text: str) -> set:
    """GitHub's anchors of the markdown headings in ``text``: lower case,
    punctuation other than '-' and '_' dropped, spaces as '-', repeats
    numbered."""
    anchors, seen = set(), {}
    for line in re.sub(r'^```.*?^```', '', text,
                       flags=re.M | re.S).splitlines():
        match = re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
        if not match:
            continue
        slug = re.sub(r'[^\w\- ]', '', match[1].lower()).replace(' ', '-')
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f'{slug}-{count}')
    return anchors


def test_heading_anchors_follow_github():
    text = ('# Results\n## Workflow: pretrain -> convert -> test\n'
            '```\n# not a heading\n```\n## Pair purity\n### Pair purity\n'
            '## `tools/misc/print_config.py`, OpenMMLab\n')
    assert heading_anchors(text) == {
        'results', 'workflow-pretrain---convert---test', 'pair-purity',
        'pair-purity-1', 'toolsmiscprint_configpy-openmmlab'}


@pytest.mark.parametrize('doc', DOCS)
def test_relative_links_reach_files_and_headings(doc):
    with open(osp.join(REPO_ROOT, doc)) as f:
        text = f.read()
    broken = []
    for target in LINK.findall(_prose(text)):
        if re.match(r'[a-z]+:', target):  # https:, mailto:
            continue
        path, _, anchor = target.partition('#')
        file = osp.normpath(osp.join(REPO_ROOT, osp.dirname(doc), path)) \
            if path else osp.join(REPO_ROOT, doc)
        if not osp.exists(file):
            broken.append(target)
        elif anchor:
            with open(file) as f:
                if anchor not in heading_anchors(f.read()):
                    broken.append(target)
    assert not broken, f'{doc}: {broken}'


def test_readme_is_a_guide():
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        lines = f.read().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f'README.md has {len(lines)} lines: results, statistics and '
        'development notes belong in docs/ (README links them)')

"""Every exercise's checker answers the student edition's stub, ``None``, with "not answered yet".

The student edition replaces each solution by ``answer = None`` and the lesson runs on, so a
checker must print "not answered yet" (and fail) for ``None``, never raise. This covers every
checker ``labutils.checks`` exports, a new one included, with no test to write for it.
"""

import inspect

import pytest

from labutils import checks

CHECKERS = sorted(name for name in checks.__all__ if name.startswith("check_"))

#: The other arguments of the checkers that read them before the answer (as the lesson passes
#: them); every other checker gets None for each of its other required arguments.
OTHER_ARGUMENTS = {
    "check_dataset_iou": ([[[0, 1]], [[1, 1]]], [[[0, 1]], [[1, 2]]]),  # lesson 02
    "check_precision": ([[8, 1], [2, 9]],),  # lesson 06
}


@pytest.mark.parametrize("name", CHECKERS)
def test_checker_says_not_answered_yet_for_the_stub(name, capsys):
    checker = getattr(checks, name)
    required = [p for p in inspect.signature(checker).parameters.values() if p.default is p.empty]
    others = OTHER_ARGUMENTS.get(name, (None,) * (len(required) - 1))
    verdict = checker(None, *others)
    out = capsys.readouterr().out
    assert isinstance(verdict, checks.Verdict) and not verdict
    assert "not answered yet" in out and "Hint:" in out, out

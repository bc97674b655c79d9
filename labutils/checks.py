"""Self-checks for the exercises: each ``check_*`` prints what is right or wrong and a hint.

A checker takes the student's answer and returns ``True`` when it is right. An answer of
``None`` (the student edition's stub) prints "not answered yet" with the hint instead of failing,
so every notebook still runs end to end.
"""

from __future__ import annotations

__all__ = ["not_answered", "report"]


def report(exercise: str, problem: str | None, hint: str) -> bool:
    """Print the verdict on one exercise and return whether it passed.

    Args:
        exercise: the exercise's name, e.g. ``"Exercise 1 (pixel IoU)"``.
        problem: ``None`` when the answer is right, else what is wrong with it.
        hint: one sentence that helps without giving the answer away.
    """
    if problem is None:
        print(f"✅ {exercise}: correct.")
        return True
    print(f"❌ {exercise}: {problem}\n   Hint: {hint}")
    return False


def not_answered(exercise: str, hint: str) -> bool:
    """Report an exercise whose answer is still the stub's ``None``."""
    print(f"✏️ {exercise}: not answered yet — replace the None with your code.\n   Hint: {hint}")
    return False

"""Benchmarks of the lab: speed and quality, side by side with the original lab's recipe.

Run ``python -m benchmarks.run --help``; ``benchmarks/README.md`` says what each number means.
"""

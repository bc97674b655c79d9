"""Where the pets come from: the official folder layout and the synthetic generator.

Lessons load photos through :mod:`labutils.data`, which chooses the source.
"""

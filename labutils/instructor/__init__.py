"""Instructors' tools: the new-lesson template and HTML rendering, the student edition,
``set-repo``. They need pyproject's ``instructor`` extra; no lesson imports them.
"""

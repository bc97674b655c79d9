"""Helpers for Segmentation Lab.

Import the submodules you need explicitly, e.g. ``from labutils import data, metrics``.
Importing the package has no side effects.
"""

__version__ = "0.1.0"

#: The lab's repository: the one place its address is written (a test checks that the
#: README badges and every notebook's Setup cell use exactly this address and branch).
REPO_URL = "https://github.com/segmentation-lab/segmentation-lab"
#: The branch that Colab opens the lessons from and installs labutils from (set-repo sets both).
REPO_BRANCH = "main"

__all__ = ["REPO_BRANCH", "REPO_URL", "__version__"]

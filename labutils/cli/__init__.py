"""The command line, ``python -m labutils COMMAND``: one module per group of commands.

``labutils/__main__.py`` builds the parser from them. No lesson imports them.
"""

"""The CF task: a request and the user's table become encoder text; the model's decoded codes become
ranked rules, each bound to the table's columns, with literals the request or the table gave, and
with what it paints on the selection.

    adapter     CFTask: encoder text, training pairs, the candidate pipeline in order
    literals    literal placeholders: what the request says, masked for the model and restored after
"""
from .adapter import CFTask

__all__ = ["CFTask"]

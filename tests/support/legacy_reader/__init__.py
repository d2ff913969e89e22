"""The markdown reader as it was before the block scanner (markdown-it-py's full block parse).

Kept only for ``tests/markdown/test_md_differential.py``, which checks that the scanner-based
reader gives the same Spec, errors and lines on generated and mutated specs, apart from the
deliberate changes it lists. Delete this package together with that test.
"""

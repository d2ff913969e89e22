"""spectryn-jsonfile: an example spectryn tracker plugin keeping issues in a local JSON file.

The hook implementations are in :mod:`spectryn_jsonfile.plugin`; the file itself is handled by
:mod:`spectryn_jsonfile.store`.
"""

"""Test and toy code, kept out of the product (as ``mmdet.testing``).

* :mod:`.patch_features`: generated patch features with known objects for
  the NCut tests and benchmark, and :class:`~.patch_features.limit_threads`;
* :mod:`.maskcut_reference`: upstream MaskCut's slow dense-solver loop, the
  reference our fast NCut is checked against;
* :mod:`.toy_features`: the weight-free patch extractor of the quickstart
  (DINO weights cannot ship with vcl_mm);
* :mod:`.toy_data`: generated images and videos with ground truth;
* :mod:`.checkpoints`: random-weight checkpoints of a config's model.

Light: importing the package imports none of them.
"""

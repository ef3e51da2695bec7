"""MaskCut pseudo-labelling (imported lazily: it is not needed for training)."""

"""RGB-D transforms: depth loading, paired multi-view crops/flips, packing."""

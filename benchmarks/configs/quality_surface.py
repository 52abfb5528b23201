# Quality benchmark, arm "surface": the three scales with the relative depth
# test replaced by SurfacePairFilter (thresh 0.05: a pair is positive when
# the depth along the segment between the two cell centres has no jump);
# canvas 128 = the rooms' render size.
_base_ = ['./quality_base.py']
model = dict(
    head=dict(filters=[
        dict(type='SurfacePairFilter', thresh=0.05, num_samples=16,
             canvas_size=128, invalid='pass')
    ]))

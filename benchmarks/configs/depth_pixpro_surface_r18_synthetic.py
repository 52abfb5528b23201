# Quality experiment, same-surface arm: the DepthPixPro arm (3 scales) with
# the relative depth test replaced by SurfacePairFilter(thresh=0.05), the
# test recommended by the pair-purity measurements (README, "Pair purity":
# higher purity and recall than the relative test on the synthetic rooms
# and on real NYUv2 frames). Canvas 128 = the rooms' render size.
_base_ = ['./depth_pixpro_r18_synthetic.py']
model = dict(
    head=dict(filters=[
        dict(type='SurfacePairFilter', thresh=0.05, num_samples=16,
             canvas_size=128, invalid='pass')
    ]))

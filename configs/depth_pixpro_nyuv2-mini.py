# Entry point (README workflow on real frames, CPU): DepthPixPro, ResNet-18,
# one process x 16, SGD, cosine lr, 100 iterations on nyuv2_mini.
_base_ = './depth_pixpro_resnet18_1xb16-sgd-coslr-100iter_nyuv2-mini.py'

# Entry point (README quick start): DepthPixPro, ResNet-50, 8 GPUs x 128,
# LARS, cosine lr, 100 epochs on NYU Depth v2.
_base_ = './depth_pixpro_resnet50_8xb128-lars-coslr-100e_nyuv2.py'

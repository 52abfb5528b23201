# Entry point: the PixPro baseline of the CPU demo (ResNet-18, one process x
# 16, SGD, cosine lr, 300 iterations on the synthetic rooms).
_base_ = './pixpro_resnet18_1xb16-sgd-coslr-300iter_synthetic.py'

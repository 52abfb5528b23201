"""algorithms"""
from .depth_pixpro import VIEW_ORDERS, DepthPixPro, pixel_losses

__all__ = ['DepthPixPro', 'VIEW_ORDERS', 'pixel_losses']

"""algorithms"""
from .depth_pixpro import DepthPixPro

__all__ = ['DepthPixPro']

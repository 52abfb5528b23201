"""Models: the DepthPixPro algorithm, projector neck, multi-scale pixel head."""
from . import algorithms, filters, heads, necks  # noqa: F401

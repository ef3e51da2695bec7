"""Runner pieces. Importing this package registers its components."""
from .optim_wrapper import DeviceAmpOptimWrapper

__all__ = ['DeviceAmpOptimWrapper']

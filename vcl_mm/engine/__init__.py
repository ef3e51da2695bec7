"""Runner pieces. Importing this package registers its components."""
from .loops import DeviceAutocastTestLoop
from .optim_wrapper import DeviceAmpOptimWrapper

__all__ = ['DeviceAmpOptimWrapper', 'DeviceAutocastTestLoop']

"""Runner pieces. Importing this package registers its components."""
from .loops import DeviceAutocastTestLoop
from .optim_wrapper import DeviceAmpOptimWrapper
from .runner import DeviceAwareRunner

__all__ = [
    'DeviceAmpOptimWrapper', 'DeviceAutocastTestLoop', 'DeviceAwareRunner'
]

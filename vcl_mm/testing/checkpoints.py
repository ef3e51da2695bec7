"""Checkpoints of random models for tests that need a weights file."""


def save_random_checkpoint(config, path, seed=0):
    """Build the model of ``config`` with random weights and save it as an
    mmengine checkpoint (``state_dict`` and an empty ``meta``).

    Args:
        config (str): config file (recipe variables resolved, as the tools
            load it).
        path (str): the ``.pth`` file to write.
        seed (int): torch seed of the random initialisation.

    Returns:
        str: ``path``.
    """
    import torch

    from vcl_mm.registry import MODELS
    from vcl_mm.utils import register_all_modules
    from vcl_mm.utils.launch import load_config
    register_all_modules()
    torch.manual_seed(seed)
    model = MODELS.build(load_config(config).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path

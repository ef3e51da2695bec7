"""Fixtures of the model tests."""
import pytest
from model_helpers import build_tiny_videocutler


@pytest.fixture(scope='module')
def tiny_model():
    """The smoke recipe's model with random weights, eval mode."""
    return build_tiny_videocutler()

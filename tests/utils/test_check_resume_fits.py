"""Strict resume: weights that do not fit the model are refused with the
key names unless a partial load is asked for."""
import pytest
import torch
import torch.nn as nn

from vcl_mm.utils import InputError
from vcl_mm.utils.checkpoint import check_resume_fits


def _model(out=3):
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5),
                         nn.Linear(5, out))


def test_fitting_checkpoint_passes():
    model = _model()
    ckpt = dict(state_dict=_model().state_dict(), meta=dict(iter=3))
    found = check_resume_fits(model, ckpt)
    assert found == dict(missing=[], unexpected=[], shape=[])
    # module. prefixes of a wrapped model and a bare state dict
    bare = {'module.' + k: v for k, v in _model().state_dict().items()}
    check_resume_fits(model, bare)


@pytest.mark.parametrize('make,needles', [
    (lambda: _model(out=7).state_dict(), ['shape', '2.weight', '(7, 5)']),
    (lambda: {k: v for k, v in _model().state_dict().items()
              if not k.startswith('2.')}, ['missing', '2.bias']),
    (lambda: dict(_model().state_dict(), extra=torch.zeros(1)),
     ['unexpected', 'extra']),
    (lambda: {'head.' + k: v for k, v in _model().state_dict().items()},
     ['missing', 'unexpected', 'head.0.weight']),
])
def test_other_models_checkpoint_refused(make, needles):
    with pytest.raises(InputError) as err:
        check_resume_fits(_model(), dict(state_dict=make()), source='x.pth')
    msg = str(err.value)
    assert msg.startswith('x.pth does not fit') and 'partial' in msg
    for needle in needles:
        assert needle in msg


def test_partial_load_opt_in_reports():
    logged = []
    found = check_resume_fits(
        _model(), dict(state_dict=_model(out=7).state_dict()),
        allow_partial=True, log=logged.append)
    assert found['shape'] and len(logged) == 1 and 'partial' in logged[0]
    with pytest.warns(UserWarning, match='does not fit'):
        check_resume_fits(_model(), dict(state_dict={'x': torch.ones(1)}),
                          allow_partial=True)


@pytest.mark.parametrize('ckpt', [dict(meta=1), dict(state_dict={}), [1]])
def test_no_weights_refused(ckpt):
    with pytest.raises(InputError, match='no model weights'):
        check_resume_fits(_model(), ckpt, allow_partial=True)


def test_wrapped_model_unwrapped():

    class Wrapper(nn.Module):

        def __init__(self):
            super().__init__()
            self.module = _model()

    check_resume_fits(Wrapper(), dict(state_dict=_model().state_dict()))

"""DAVIS 2017 unsupervised evaluation (region J, boundary F, J&F).

Our own implementation of the protocol of the official davis2017-evaluation
tools, unsupervised task:

* ground truth: object ids 1..N where N is the largest id in the *first*
  frame, 255 is void (DAVIS-2016 0/255 masks are read as object 1 by
  :mod:`.davis_folder`); predictions: indexed label maps, ids 1..P, P <= 20;
* J = |pred & gt| / |pred | gt| over non-void pixels, 1 when the union is
  empty;
* F = boundary F-measure: boundaries as the official ``seg2bmap`` (a pixel
  differs from its right, lower or lower-right neighbour inside the image)
  of the masks with void pixels removed, matched within a disk of radius
  ceil(0.008 x image diagonal) (cv2 dilation), precision/recall 1/0, 0/1 or
  1/1 when the predicted / ground-truth / both boundaries are empty;
* with fewer proposals than objects, empty proposals are added; proposals
  are assigned to objects by the Hungarian algorithm on the per-pair mean
  over frames of (J + F) / 2, and each object's per-frame J and F give
  Mean, Recall (fraction > 0.5) and Decay (mean of the first minus the last
  of 4 quantile bins), averaged over all objects of all sequences;
  J&F-Mean = (J-Mean + F-Mean) / 2.

Faster than the official design: one pass per frame computes every
proposal/object intersection from a joint histogram of the two label maps,
and boundaries and their dilations once per label (cropped to the label's
boundary box) instead of once per pair; sequences stream frame by frame, so
memory does not grow with sequence length or count.

On valid input the numbers are identical to the official code with one
documented difference: the official code names per-object rows by the
matched proposal's rank instead of the object id; we name them by object
id (all global statistics are unaffected). ``db_statistics`` casts bin
indices to uint8 in the official code (wrong beyond 256 frames); we do not.
"""
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
from scipy.optimize import linear_sum_assignment

from vcl_mm.datasets.api_wrappers.davis_format import VOID_LABEL
from vcl_mm.utils.errors import InputError
from .davis_measures import (MAX_PROPOSALS, boundary_radius, db_statistics,
                             disk, frame_scores, label_boundaries)

__all__ = [
    'MAX_PROPOSALS', 'VOID_LABEL', 'MEASURES', 'disk', 'boundary_radius',
    'label_boundaries', 'frame_scores', 'db_statistics', 'SequenceEvaluator',
    'SequenceResult', 'DAVISSummary', 'format_davis_table'
]

#: Global measures, in the official table order.
MEASURES = ('J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall',
            'F-Decay')


@dataclass
class SequenceResult:
    """Evaluation of one sequence.

    Attributes:
        name (str): sequence name.
        object_ids (list[int]): object ids in the official accumulation
            order (ascending matched proposal).
        proposal_ids (list[int]): the proposal matched to each object
            (> the real proposal count: an empty padding proposal).
        J (np.ndarray): (G, T) per-frame J of each object (same order).
        F (np.ndarray): (G, T) per-frame F.
        stats (dict): object id -> dict of J/F Mean, Recall, Decay.
    """
    name: str
    object_ids: List[int]
    proposal_ids: List[int]
    J: np.ndarray
    F: np.ndarray
    stats: Dict[int, dict] = field(default_factory=dict)

    @property
    def num_objects(self):
        return len(self.object_ids)


class SequenceEvaluator:
    """Streams the frames of one sequence; memory O(P x G x T) floats.

    Args:
        name (str): sequence name, used in messages and results.
        num_objects (int, optional): G; default: the largest non-void id
            of the first ground-truth frame (official rule).
        max_proposals (int): more proposal ids raise InputError.
        bound_th (float): boundary tolerance.
    """

    def __init__(self,
                 name,
                 num_objects=None,
                 max_proposals=MAX_PROPOSALS,
                 bound_th=0.008):
        self.name = name
        self.num_objects = num_objects
        self.max_proposals = max_proposals
        self.bound_th = bound_th
        self.max_id = 0
        self._j, self._f = [], []
        self._shape = None

    def add_frame(self, gt_labels, res_labels, frame=None, void=None):
        """Score one frame.

        Args:
            gt_labels (np.ndarray): (H, W) ground-truth ids, 255 void.
            res_labels (np.ndarray): (H, W) proposal ids.
            frame (str, optional): frame name for messages.
            void (np.ndarray, optional): (H, W) bool extra void pixels.
        """
        where = f'sequence {self.name}' + (f', frame {frame}'
                                           if frame is not None else '')
        if self._shape is None:
            self._shape = gt_labels.shape
            if self.num_objects is None:
                first = gt_labels[gt_labels != VOID_LABEL]
                self.num_objects = int(first.max()) if first.size else 0
        elif gt_labels.shape != self._shape:
            raise InputError(f'{where}: ground truth of size '
                             f'{gt_labels.shape}, earlier frames are '
                             f'{self._shape}')
        if res_labels.shape != gt_labels.shape:
            raise InputError(f'{where}: prediction of size '
                             f'{res_labels.shape[:2]}, ground truth is '
                             f'{gt_labels.shape}')
        top = int(res_labels.max()) if res_labels.size else 0
        if top > self.max_proposals:
            raise InputError(f'{where}: proposal id {top} but at most '
                             f'{self.max_proposals} proposals are allowed')
        self.max_id = max(self.max_id, top)
        j, f = frame_scores(gt_labels, res_labels, self.num_objects,
                            self.max_proposals, void, self.bound_th)
        self._j.append(j)
        self._f.append(f)

    def result(self):
        """Match proposals to objects and compute per-object statistics.

        Returns:
            SequenceResult
        """
        if not self._j:
            raise InputError(f'sequence {self.name}: no frames')
        G = self.num_objects
        n_prop = max(self.max_id, G)
        J = np.stack(self._j, axis=2)[:n_prop]  # (P, G, T), C-contiguous
        F = np.stack(self._f, axis=2)[:n_prop]
        J, F = np.ascontiguousarray(J), np.ascontiguousarray(F)
        score = (np.mean(J, axis=2) + np.mean(F, axis=2)) / 2
        rows, cols = linear_sum_assignment(-score)
        res = SequenceResult(
            name=self.name,
            object_ids=[int(c) + 1 for c in cols],
            proposal_ids=[int(r) + 1 for r in rows],
            J=J[rows, cols],
            F=F[rows, cols])
        for k, oid in enumerate(res.object_ids):
            jm, jr, jd = db_statistics(res.J[k])
            fm, fr, fd = db_statistics(res.F[k])
            res.stats[oid] = {
                'J-Mean': jm,
                'J-Recall': jr,
                'J-Decay': jd,
                'F-Mean': fm,
                'F-Recall': fr,
                'F-Decay': fd
            }
        return res


class DAVISSummary:
    """Accumulates :class:`SequenceResult` s into the global table.

    Objects are accumulated in the official order (sequence order, then
    ascending matched proposal), so the means are bit-identical.
    """

    def __init__(self):
        self.sequences: List[SequenceResult] = []

    def add(self, result):
        self.sequences.append(result)

    def summary(self):
        """Global and per-sequence statistics.

        Returns:
            dict: :data:`MEASURES` as fractions, ``per_sequence`` (name ->
            J&F-Mean, J-Mean, F-Mean, num_objects, the means over its
            objects) and ``per_object`` (``<seq>_<id>`` -> its six values).
        """
        cols = {k: [] for k in MEASURES[1:]}
        per_seq, per_obj = {}, {}
        for seq in self.sequences:
            for oid in seq.object_ids:
                st = seq.stats[oid]
                for k in cols:
                    cols[k].append(st[k])
                per_obj[f'{seq.name}_{oid}'] = {
                    k: float(v)
                    for k, v in st.items()
                }
            jm = fm = jf = None  # no object in the first frame
            if seq.num_objects:
                jm = float(
                    np.mean([seq.stats[o]['J-Mean'] for o in seq.object_ids]))
                fm = float(
                    np.mean([seq.stats[o]['F-Mean'] for o in seq.object_ids]))
                jf = (jm + fm) / 2
            per_seq[seq.name] = {
                'J&F-Mean': jf,
                'J-Mean': jm,
                'F-Mean': fm,
                'num_objects': seq.num_objects
            }
        if not cols['J-Mean']:
            raise InputError('no ground-truth objects in any sequence: '
                             'nothing to evaluate')
        out = {k: float(np.mean(v)) for k, v in cols.items()}
        out['J&F-Mean'] = float(
            (np.mean(cols['J-Mean']) + np.mean(cols['F-Mean'])) / 2.)
        out = {k: out[k] for k in MEASURES}
        out['per_sequence'] = per_seq
        out['per_object'] = per_obj
        return out


def format_davis_table(summary):
    """Global and per-sequence tables as text (values as fractions)."""
    lines = [
        ' '.join(f'{k:>9}' for k in MEASURES),
        ' '.join(f'{summary[k]:>9.3f}' for k in MEASURES), '',
        f'{"Sequence":<24} {"objects":>7} {"J&F-Mean":>9} '
        f'{"J-Mean":>9} {"F-Mean":>9}'
    ]
    for name, s in summary['per_sequence'].items():
        vals = ' '.join(f'{"-" if s[k] is None else format(s[k], ".3f"):>9}'
                        for k in ('J&F-Mean', 'J-Mean', 'F-Mean'))
        lines.append(f'{name:<24} {s["num_objects"]:>7d} {vals}')
    return '\n'.join(lines)

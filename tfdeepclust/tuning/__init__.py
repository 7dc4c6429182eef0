"""Hyperparameter sweeps with KerasTuner (label-free objectives, shared pretraining)."""

from tfdeepclust.tuning.space import SEARCH_SPACES, Param, search_space
from tfdeepclust.tuning.sweep import TUNERS, TuneOptions, tune

__all__ = ["SEARCH_SPACES", "TUNERS", "Param", "TuneOptions", "search_space", "tune"]

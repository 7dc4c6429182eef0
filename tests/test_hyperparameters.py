"""Each model's hyperparameters have one home: their dataclass. The recipe's config extends it,
the model takes it (or keywords) and its ``get_config`` is built from it."""

import dataclasses
import inspect

import pytest

from tfdeepclust.config import config_dict
from tfdeepclust.methods.adec import ADEC, ADECHyperparameters, DECStar, IDECStar
from tfdeepclust.methods.asc2d import ASC2D, ASC2DHyperparameters
from tfdeepclust.methods.dfvc import DFVC, DFVCHyperparameters
from tfdeepclust.recipes.adec import ADECConfig
from tfdeepclust.recipes.asc2d import ASC2DConfig
from tfdeepclust.recipes.dfvc import DFVCConfig

# model class, its hyperparameter class, the recipe config, an input shape
CASES = [
    (ASC2D, ASC2DHyperparameters, ASC2DConfig, (16, 16, 1)),
    (ADEC, ADECHyperparameters, ADECConfig, (12,)),
    (DECStar, ADECHyperparameters, ADECConfig, (12,)),
    (IDECStar, ADECHyperparameters, ADECConfig, (12,)),
    (DFVC, DFVCHyperparameters, DFVCConfig, (16, 16, 1)),
]
IDS = [c[0].__name__ for c in CASES]
OTHER_STRINGS = {"kernel_initializer": "glorot_uniform", "embedding_activation": "relu"}


def _changed(hp_cls, model_cls) -> dict:
    """A value other than the default for every field (small widths keep the models cheap)."""
    values = {}
    for f in dataclasses.fields(hp_cls):
        v = f.default
        choices = hp_cls.CHOICES.get(f.name)
        if f.name == "mode":
            v = model_cls.mode  # the class is the mode
        elif choices:
            v = next(c for c in choices if c != v and c != "auto")
        elif isinstance(v, bool):
            v = not v
        elif isinstance(v, str):
            v = OTHER_STRINGS[f.name]
        elif isinstance(v, tuple):
            v = tuple(3 + i for i in range(len(v)))
        elif isinstance(v, int):
            v = v + 1
        elif v is None or isinstance(v, float):
            v = 0.25 if v is None else v * 0.5 + 0.125
        values[f.name] = v
    if hp_cls is DFVCHyperparameters:  # keep the model valid and small
        values.update(use_cmi=True, trunk="conv4", recon_weight=0.0, latent_dim=4)
    if hp_cls is ADECHyperparameters:
        values["latent_dim"] = 4
    return values


@pytest.mark.parametrize("model_cls, hp_cls, config_cls, shape", CASES, ids=IDS)
def test_config_extends_the_models_hyperparameters(model_cls, hp_cls, config_cls, shape):
    assert issubclass(config_cls, hp_cls)
    # No default is written twice: the constructor has no hyperparameter keywords of its own.
    own = set()
    for klass in model_cls.__mro__:
        if "__init__" in vars(klass):
            own |= set(inspect.signature(klass.__init__).parameters)
    assert not own & {f.name for f in dataclasses.fields(hp_cls)}
    # The default model records the dataclass's defaults.
    model = model_cls(shape, 3, **({"latent_dim": 4} if hp_cls is not ASC2DHyperparameters else {}))
    expected = config_dict(hp_cls())
    if "latent_dim" in expected:
        expected["latent_dim"] = 4
    if "mode" in expected:
        expected["mode"] = model_cls.mode
    assert {k: model.get_config()[k] for k in expected} == expected


@pytest.mark.parametrize("model_cls, hp_cls, config_cls, shape", CASES, ids=IDS)
def test_every_field_of_a_config_reaches_the_model_and_its_config(
    model_cls, hp_cls, config_cls, shape
):
    values = _changed(hp_cls, model_cls)
    cfg = dataclasses.replace(config_cls(), **values)
    model = model_cls(shape, 3, hp=cfg)
    assert config_dict(model.hp) == config_dict(hp_cls(**values))
    clone = model_cls.from_config(model.get_config())
    assert type(clone) is model_cls and clone.get_config() == model.get_config()
    # Keywords override hp, as keras.Model subclasses take their hyperparameters.
    assert model_cls(shape, 3, hp=cfg, alpha=2.0).hp.alpha == 2.0
    with pytest.raises(ValueError, match="not_a_field"):  # Keras refuses unknown keywords
        model_cls(shape, 3, hp=cfg, not_a_field=1)

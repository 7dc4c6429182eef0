"""Augmentation presets built from Keras 3 preprocessing layers (no TFA, no KerasCV).

Every preset is a ``keras.Sequential`` of random layers seeded from one integer, usable inside a
``tf.data`` map (after batching) and inside a ``train_step``.
"""

from __future__ import annotations

import keras

PRESETS = ("none", "dec", "dfvc_grey", "dfvc_colour")
VIEW_MODES = ("none", "single", "double")


def build_augmenter(
    preset: str, seed: int, channels: int = 1, strength: float = 1.0
) -> keras.Sequential | None:
    """Returns the augmentation pipeline of a preset, or None for ``"none"``.

    Presets:
        ``dec``: docs/methods.md §1.8 (ADEC, DEC-DA): rotation ±10°, shift ±10 %, ``nearest`` fill.
        ``dfvc_grey``: docs/methods.md §4.7 grey images: rotation ±15°, shift 10 %, zoom 10 %,
            contrast and brightness 0.4.
        ``dfvc_colour``: docs/methods.md §4.7 colour images: crop-rescale zoom, horizontal flip,
            colour jitter (0.4, 0.4, 0.4, hue 0.125).

    Args:
        preset: One of :data:`PRESETS`.
        seed: Seeds every random layer (layer ``i`` gets ``seed + i``).
        channels: Image channels (colour jitter needs 3).
        strength: Multiplies every magnitude of the preset (angles, shifts, zooms, colour
            factors, each capped at its layer's range); 1 is the preset as listed, 0 the identity
            but for the colour preset's flip, which has no magnitude. How strongly the views
            differ is a contrastive method's main knob.
    """
    if preset == "none":
        return None
    if not 0.0 <= strength <= 4.0:
        raise ValueError(f"augmentation strength must be in [0, 4], got {strength}")
    s = float(strength)
    L = keras.layers
    # (layer class, kwargs) pairs; layer i is seeded with seed + i.
    if preset == "dec":
        specs = [
            # factor is a fraction of a full turn: 10 degrees = 10/360.
            (L.RandomRotation, dict(factor=s * 10 / 360, fill_mode="nearest")),
            (
                L.RandomTranslation,
                dict(height_factor=s * 0.1, width_factor=s * 0.1, fill_mode="nearest"),
            ),
        ]
    elif preset == "dfvc_grey":
        specs = [
            (L.RandomRotation, dict(factor=s * 15 / 360, fill_mode="constant")),
            (
                L.RandomTranslation,
                dict(height_factor=s * 0.1, width_factor=s * 0.1, fill_mode="constant"),
            ),
            (L.RandomZoom, dict(height_factor=s * 0.1, fill_mode="constant")),
            # Contrast and brightness factors above 1 are not meaningful; they saturate there.
            (L.RandomContrast, dict(factor=min(s * 0.4, 1.0), value_range=(0, 1))),
            (L.RandomBrightness, dict(factor=min(s * 0.4, 1.0), value_range=(0, 1))),
        ]
    elif preset == "dfvc_colour":
        if channels != 3:
            raise ValueError("the dfvc_colour preset needs 3-channel images; use dfvc_grey")
        specs = [
            # Zooming in by up to 40 % = a random 60-100 % crop rescaled to full size.
            (L.RandomZoom, dict(height_factor=(-min(s * 0.4, 0.9), 0.0), fill_mode="reflect")),
            (L.RandomFlip, dict(mode="horizontal")),
            (
                L.RandomColorJitter,
                dict(
                    value_range=(0, 1),
                    brightness_factor=min(s * 0.4, 1.0),
                    contrast_factor=min(s * 0.4, 1.0),
                    # Saturation is a range around 0.5 (no change).
                    saturation_factor=(0.5 - min(s * 0.2, 0.5), 0.5 + min(s * 0.2, 0.5)),
                    hue_factor=min(s * 0.125, 0.5),
                ),
            ),
        ]
    else:
        raise ValueError(f"Unknown augmentation preset {preset!r}; choose one of {PRESETS}.")
    layers = [cls(**kwargs, seed=seed + i) for i, (cls, kwargs) in enumerate(specs)]
    return keras.Sequential(layers, name=f"augment_{preset}")


class ViewPair:
    """Makes the two views ``(x, x′)`` of a batch for contrastive / MI methods (DFVC).

    Modes (DFVC Table IV): ``"double"`` (default): two independent augmentations of each image;
    ``"single"``: the clean image and one augmentation; ``"none"``: the clean image twice.
    Map it after batching: ``ds.map(lambda x, i: (pair(x, training=True), i))``.
    """

    def __init__(self, augmenter, mode: str = "double"):
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode must be one of {VIEW_MODES}, got {mode!r}")
        if mode != "none" and augmenter is None:
            raise ValueError(f"view mode {mode!r} needs an augmentation preset other than 'none'")
        self.augmenter, self.mode = augmenter, mode

    def __call__(self, x, training: bool = True):
        if self.mode == "none":
            return x, x
        second = self.augmenter(x, training=training)
        if self.mode == "single":
            return x, second
        # Each call of the random layers draws new parameters: two independent views.
        return self.augmenter(x, training=training), second


def default_preset(method_preset: str, channels: int) -> str:
    """Resolves ``"auto"`` to the grey or colour DFVC preset by the number of channels."""
    if method_preset != "auto":
        return method_preset
    return "dfvc_colour" if channels == 3 else "dfvc_grey"

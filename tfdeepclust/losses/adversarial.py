"""GAN losses on logits: discriminator BCE and the generator's two forms."""

from __future__ import annotations

from keras import ops

from tfdeepclust.losses.reduction import global_batch_mean


def discriminator_loss(real_logits, fake_logits):
    """E[-log D(real)] + E[-log(1 - D(fake))] (maximising Eq. 8 / ADEC Eq. 12 for D).

    With logits l: -log σ(l) = softplus(-l), -log(1 - σ(l)) = softplus(l).
    """
    return global_batch_mean(ops.softplus(-ops.reshape(real_logits, [-1]))) + global_batch_mean(
        ops.softplus(ops.reshape(fake_logits, [-1]))
    )


GEN_LOSSES = ("nonsaturating", "minimax")


def check_gen_loss(form: str) -> str:
    """Returns ``form`` if it names a generator loss; models call it in their constructor so
    that a typo fails before the (long) pretraining, not at the first adversarial step."""
    if form not in GEN_LOSSES:
        raise ValueError(f"gen_loss must be one of {GEN_LOSSES}, got {form!r}")
    return form


def generator_loss(fake_logits, form: str = "nonsaturating"):
    """The generator's adversarial term.

    Args:
        fake_logits: Discriminator logits of generated samples.
        form: ``"nonsaturating"``: E[-log D(fake)] (docs/methods.md [CHOICE]); ``"minimax"``:
            E[log(1 - D(fake))], the literal min-max form of ASC2D Eq. 8.
    """
    form = check_gen_loss(form)
    l = ops.reshape(fake_logits, [-1])  # noqa: E741
    if form == "nonsaturating":
        return global_batch_mean(ops.softplus(-l))
    return global_batch_mean(-ops.softplus(l))  # minimax

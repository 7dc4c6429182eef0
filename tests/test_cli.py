"""The training scripts' command line: every hyperparameter documented, enumerations enforced."""

import dataclasses

import pytest

from tfdeepclust.api import get_recipe
from tfdeepclust.cli import field_docs, parse_args, recipe_parser

METHODS = ("asc2d", "adec", "dfvc")


def _recipe(method):
    return get_recipe(method)


@pytest.mark.parametrize("method", METHODS)
def test_every_hyperparameter_has_help_and_valid_choices(method):
    cls = _recipe(method).config_cls
    fields = {f.name: f for f in dataclasses.fields(cls)}
    docs = field_docs(cls)
    undocumented = [name for name in fields if not docs.get(name)]
    assert not undocumented, f"{cls.__name__}: add a comment to {undocumented}"
    for name, allowed in cls.CHOICES.items():
        assert name in fields, name
        assert fields[name].default in allowed, name  # the default itself is accepted


def test_field_docs_joins_the_comment_block_above_and_the_trailing_comment():
    @dataclasses.dataclass
    class Config:
        plain: int = 1
        # first line of a block
        # second line
        blocked: str = "a"  # and a trailing one
        trailing: float = 0.5  # only trailing, with a # inside

        # after a blank line
        spaced: bool = True

    assert field_docs(Config) == {
        "plain": "",
        "blocked": "first line of a block second line and a trailing one",
        "trailing": "only trailing, with a # inside",
        "spaced": "after a blank line",
    }


def test_help_shows_choices_descriptions_and_real_defaults():
    text = " ".join(recipe_parser(_recipe("adec")).format_help().split())
    assert "--mode {adec,dec,idec}" in text
    assert "adec: the paper's method; idec = IDEC*" in text and "(default: dec)" in text
    assert "--pretrain-optimizer {auto,adam,sgd}" in text
    assert "--hidden N [N ...]" in text and "(default: (500, 500, 2000))" in text
    # No internal dest names as metavars, no "(default: False)" after on/off flags.
    assert " M_" not in text and "--latent-dim LATENT_DIM" in text
    assert "(default: False)" not in text and "--no-export skip the SavedModel export" in text
    assert "(default: 0.5)" in " ".join(recipe_parser(_recipe("asc2d")).format_help().split())


@pytest.mark.parametrize(
    "method, argv, expected",
    [
        ("adec", ["--mode", "dec"], ("mode", "dec")),
        ("dfvc", ["--vec-reduction", "sum"], ("vec_reduction", "sum")),
        ("asc2d", ["--ae-reduction", "sum"], ("ae_reduction", "sum")),
    ],
)
def test_a_listed_value_parses(method, argv, expected):
    recipe = _recipe(method)
    _, cfg = parse_args(recipe_parser(recipe), recipe.config_cls, argv)
    assert getattr(cfg, expected[0]) == expected[1]


@pytest.mark.parametrize(
    "method, argv",
    [
        ("adec", ["--mode", "dek"]),
        ("asc2d", ["--augment", "flip"]),
        ("asc2d", ["--gen-loss", "wgan"]),
        ("dfvc", ["--trunk", "vgg"]),
    ],
)
def test_a_value_outside_the_list_is_refused_with_the_valid_ones(method, argv, capsys):
    recipe = _recipe(method)
    with pytest.raises(SystemExit) as exc:
        parse_args(recipe_parser(recipe), recipe.config_cls, argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[0]}: invalid choice: '{argv[1]}'" in err
    assert "choose from" in err


def _readme_commands():
    """Every ``python train_<method>.py ...`` line of the README (comments stripped)."""
    import re
    import shlex

    from helpers import REPO

    for line in (REPO / "README.md").read_text().splitlines():
        m = re.search(r"python train_(asc2d|adec|dfvc)\.py(.*)", line)
        if m:
            yield m.group(1), shlex.split(m.group(2), comments=True)


def test_every_readme_command_parses():
    """The README's commands stay true: each one is accepted by its script's parser."""
    commands = list(_readme_commands())
    assert len(commands) >= 15 and {m for m, _ in commands} == set(METHODS)
    for method, argv in commands:
        if argv == ["--help"]:
            continue
        recipe = _recipe(method)
        parse_args(recipe_parser(recipe), recipe.config_cls, argv)  # exits 2 on a bad option


def test_collapse_patience_parses_and_a_negative_value_is_refused(capsys):
    recipe = _recipe("asc2d")
    common, _ = parse_args(recipe_parser(recipe), recipe.config_cls, ["--collapse-patience", "0"])
    assert common.collapse_patience == 0
    common, _ = parse_args(recipe_parser(recipe), recipe.config_cls, [])
    assert common.collapse_patience == 3
    with pytest.raises(SystemExit) as exc:
        parse_args(recipe_parser(recipe), recipe.config_cls, ["--collapse-patience", "-1"])
    assert exc.value.code == 2
    assert "expected an integer >= 0, got '-1'" in capsys.readouterr().err


def test_every_shared_option_has_a_flag_that_reaches_its_field():
    import dataclasses

    from tfdeepclust.api import get_recipe
    from tfdeepclust.cli import COMMON_NOT_FLAGS, parse_args, recipe_parser
    from tfdeepclust.config import CommonConfig

    recipe = get_recipe("adec")
    parser = recipe_parser(recipe)
    ns = parser.parse_args([])
    fields = [f.name for f in dataclasses.fields(CommonConfig) if f.name not in COMMON_NOT_FLAGS]
    assert all(hasattr(ns, name) for name in fields)
    common, _ = parse_args(parser, recipe.config_cls, ["--seed", "7", "--no-pictures", "--quick"])
    assert (common.seed, common.pictures, common.budget) == (7, False, "quick")
    # Defaults from the parser are the dataclass's.
    default, _ = parse_args(parser, recipe.config_cls, [])
    assert default == CommonConfig()

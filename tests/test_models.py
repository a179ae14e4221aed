import dataclasses

import numpy as np
import pytest
import torch

from aelab import create_model, list_models
from aelab.errors import AelabError, ConfigError
from aelab.models import IMAGE, model_class
from aelab.summary import format_table, layer_table

SMALL = {
    IMAGE: dict(channels=3, height=8, width=8, latent_dim=6),
    "sequence": dict(seq_len=12, n_features=3, latent_dim=5),
    "table": dict(n_features=7, latent_dim=3),
}


def small_model(name):
    torch.manual_seed(0)
    return create_model(name, **SMALL[model_class(name).input_kind])


def test_registry_lists_the_contract_models():
    assert {"cnn", "cnn-seed", "lstm", "lstm-seed", "conv1d"} <= set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_shapes_finite_and_gradients(name):
    model = small_model(name)
    x = torch.rand(4, *model.input_shape)
    z = model.encode(x)
    assert z.shape == (4, model.latent_dim)
    x_hat = model.decode(z)
    assert x_hat.shape == x.shape and torch.isfinite(x_hat).all()
    loss = (model(x) - x).pow(2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", list_models())
def test_eval_output_respects_range(name):
    model = small_model(name).eval()
    x_hat = model(torch.rand(3, *model.input_shape) * 5)
    if model.output_range:
        assert x_hat.min() >= 0 and x_hat.max() <= 1


def test_seed_models_match_the_notebook_sizes():
    assert sum(p.numel() for p in create_model("cnn-seed").parameters()) == 590_819
    assert sum(p.numel() for p in create_model("lstm-seed").parameters()) == 65_310


@pytest.mark.parametrize("setting", [dict(hidden=96), dict(patch=5), dict(mixed=4)])
def test_the_seed_lstm_refuses_settings_only_the_default_lstm_reads(setting):
    (name, value), shape = next(iter(setting.items())), dict(seq_len=10, n_features=8, latent_dim=3)
    with pytest.raises(AelabError, match=f"takes no {name}={value}"):
        create_model("lstm-seed", **shape, **setting)
    create_model("lstm", **shape, **setting)  # the default lstm reads each of them


def test_the_cnn_stem_sets_the_channels_of_the_full_resolution_layers_only():
    plain, narrow = (create_model("cnn", height=8, width=8, latent_dim=4, width_mult=48, stem=s) for s in (0, 16))
    first, last = (lambda m: m.encoder[0][0].out_channels), (lambda m: m.decoder[-2].in_channels)
    assert (first(plain), last(plain), first(narrow), last(narrow)) == (24, 24, 16, 16)  # 0: width_mult / 2
    assert narrow.encoder[1][0].out_channels == plain.encoder[1][0].out_channels == 48
    assert narrow(torch.rand(2, 3, 8, 8)).shape == (2, 3, 8, 8)
    with pytest.raises(AelabError, match="stem: must be 0 or more, got -1"):
        create_model("cnn", height=8, width=8, latent_dim=4, stem=-1)


def test_only_the_seed_cnn_needs_sides_divisible_by_4():
    with pytest.raises(AelabError, match="multiples of 4"):
        create_model("cnn-seed", height=30, width=30)
    model = create_model("cnn", height=30, width=30, channels=1).eval()
    assert model(torch.rand(2, 1, 30, 30)).shape == (2, 1, 30, 30)
    with pytest.raises(AelabError, match="at least 4x4"):
        create_model("cnn", height=3, width=30)


@pytest.mark.parametrize(
    "name, shape, latent",
    [("dense", dict(n_features=5), 4), ("lstm", dict(seq_len=8, n_features=1), 4), ("conv1d", dict(seq_len=5), 20),
     ("cnn", dict(channels=1, height=4, width=4), 8), ("cnn", {}, 32), ("lstm-seed", {}, 20)],
)  # fmt: skip
def test_create_model_sizes_an_unasked_latent_for_the_sample_as_train_does(name, shape, latent):
    """The config's fixed default (8 for tables, 20 for sequences) refused a 5-column table or an 8-step series."""
    model = create_model(name, **shape)
    assert model.latent_dim == latent == model_class(name).default_latent(model.input_shape)


def test_latent_larger_than_input_is_refused():
    with pytest.raises(AelabError, match="exceeds the 64 values"):
        create_model("cnn", channels=1, height=8, width=8, latent_dim=65)
    with pytest.raises(AelabError, match="must be positive"):
        create_model("lstm", latent_dim=0)


def test_unknown_model_and_setting():
    with pytest.raises(AelabError, match="unknown model"):
        create_model("transformer")
    with pytest.raises(AelabError, match="no setting depth"):
        create_model("cnn", depth=3)


@pytest.mark.parametrize("name", list_models())
def test_every_setting_of_every_model_is_checked_for_its_type_and_size(name):
    """Each int setting a whole number (NumPy's taken as int), positive unless 0 means something; each str setting
    text: one error naming the setting, never torch's, and never a model of zero-size layers."""
    fields = {f.name: f for f in dataclasses.fields(model_class(name).Config)}
    base = SMALL[model_class(name).input_kind]
    may_be_zero = getattr(model_class(name).Config, "MAY_BE_ZERO", ())
    for field, spec in fields.items():
        if spec.type == "int":
            bad = [("50", "must be a whole number"), (2.0, "must be a whole number"), (True, "must be a whole number")]
            bad.append((-1, "must be 0 or more") if field in may_be_zero else (0, "must be positive"))
        else:
            bad = [(1, "must be text")]
        for value, problem in bad:
            with pytest.raises(ConfigError, match=f"^{field}: {problem}, got {value!r}$"):
                create_model(name, **{**base, field: value})
    numpy_typed = create_model(name, **{k: np.int64(v) for k, v in base.items()})
    assert all(type(getattr(numpy_typed.config, k)) is int for k in base)


def test_conv1d_handles_odd_lengths_and_rejects_short():
    model = create_model("conv1d", seq_len=13, n_features=2, latent_dim=4)
    assert model(torch.rand(2, 13, 2)).shape == (2, 13, 2)
    with pytest.raises(AelabError, match="at least 4 steps"):
        create_model("conv1d", seq_len=3, n_features=2, latent_dim=2)


def test_lstm_patches_pad_uneven_lengths():
    model = create_model("lstm", seq_len=12, n_features=3, latent_dim=4, patch=5)
    assert model(torch.rand(2, 12, 3)).shape == (2, 12, 3)


@pytest.mark.parametrize("name", list_models())
def test_layer_table_accounts_for_every_parameter(name):
    model = small_model(name)
    rows = layer_table(model)
    assert sum(params for _, _, params in rows) == sum(p.numel() for p in model.parameters())
    assert format_table(model).endswith(f"Total params: {sum(p.numel() for p in model.parameters()):,}")


def test_layer_table_marks_layers_shared_across_features():
    shapes = dict((layer, shape) for layer, shape, _ in layer_table(create_model("conv1d", n_features=3)))
    assert shapes["encoder.0 (Conv1d)"] == "3 x (16, 25)"  # each of the 3 features through the same conv
    assert shapes["to_latent (Linear)"] == "(20,)"

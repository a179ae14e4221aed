import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from aelab.errors import AelabError, TrainingDiverged
from aelab.evaluate import anchor_to_pca
from aelab.models import create_model
from aelab.stats import clearly_better, critical_t, paired_t
from aelab.train import TrainConfig, Trainer, evaluate_loss


class Linear(nn.Module):
    """A tiny autoencoder: the trainer must not care what it is."""

    def __init__(self, d=8, k=2):
        super().__init__()
        self.enc, self.dec = nn.Linear(d, k), nn.Linear(k, d)

    def forward(self, x):
        return self.dec(self.enc(x))


def low_rank_data(n=256, d=8, k=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g) @ torch.randn(k, d, generator=g)


def test_loss_goes_down_and_history_is_complete():
    torch.manual_seed(0)
    model, x = Linear(), low_rank_data()
    before = evaluate_loss(model, x)[0]
    hist = Trainer(model, TrainConfig(epochs=30, batch_size=16, lr=2e-2), progress=False).fit(x[:200], x[200:])
    assert set(hist) == {"loss", "mae", "val_loss", "val_mae", "seconds"}
    assert all(len(v) == 30 for v in hist.values())
    assert hist["loss"][-1] < hist["loss"][0] / 5
    assert evaluate_loss(model, x)[0] < before / 5


def test_early_stopping_stops_and_restores_best_weights():
    torch.manual_seed(0)
    x = low_rank_data()
    # Training on noise while validating on other noise: val stops improving almost at once
    noise_train, noise_val = torch.randn(64, 8), torch.randn(64, 8)
    model = Linear()
    trainer = Trainer(model, TrainConfig(epochs=200, batch_size=16, lr=5e-2, patience=3), progress=False)
    hist = trainer.fit(noise_train, noise_val)
    assert len(hist["loss"]) < 200
    assert len(hist["loss"]) - trainer.best_epoch == 3
    best = min(hist["val_loss"])
    assert math.isclose(evaluate_loss(model, noise_val)[0], best, rel_tol=1e-5)
    assert x is not None


def test_nan_loss_stops_with_clear_error_and_no_nan_checkpoint(tmp_path):
    model = Linear()
    x = low_rank_data()
    x[5, 0] = float("inf")  # (NaN marks padding of ragged sequences, aelab.padding)
    ckpt = tmp_path / "ck" / "last.pt"
    with pytest.raises(TrainingDiverged, match="diverged at epoch 1"):
        Trainer(model, TrainConfig(epochs=3, batch_size=300), checkpoint=ckpt, progress=False).fit(x, x[:10])
    assert not ckpt.exists()


def test_checkpoint_loads_weights_only_and_resume_continues(tmp_path):
    torch.manual_seed(0)
    x = low_rank_data()
    ckpt = tmp_path / "last.pt"
    cfg = TrainConfig(epochs=6, batch_size=32, lr=1e-2, schedule="onecycle")
    full = Linear()
    torch.manual_seed(1)
    full.load_state_dict(Linear().state_dict())
    Trainer(full, cfg, progress=False).fit(x[:200], x[200:])

    torch.manual_seed(1)
    part = Linear()
    Trainer(part, TrainConfig(**{**cfg.to_dict(), "epochs": 6}), checkpoint=ckpt, progress=False)
    # train 3 epochs' worth by stopping early through a patched config, then resume to 6
    trainer = Trainer(part, cfg, checkpoint=ckpt, progress=False)

    def interrupt_after_three(epoch, model, history):  # the hook runs after the epoch's checkpoint is written
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.fit(x[:200], x[200:], on_epoch_end=interrupt_after_three)
    saved = torch.load(ckpt, weights_only=True)  # the last checkpoint before the interruption
    assert 1 <= saved["epoch"] <= 3 and len(saved["history"]["loss"]) == saved["epoch"]

    resumed = Linear()
    hist = Trainer(resumed, cfg, checkpoint=ckpt, progress=False).fit(x[:200], x[200:], resume=True)
    assert len(hist["loss"]) == 6
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)

    with pytest.raises(AelabError, match=r"lr=0\.02 \(checkpoint: 0\.01\)"):  # another run's settings
        Trainer(Linear(), TrainConfig(**{**cfg.to_dict(), "lr": 2e-2}), checkpoint=ckpt, progress=False).fit(
            x[:200], x[200:], resume=True
        )
    saved = torch.load(ckpt, weights_only=True)  # an optimizer of other groups: from another version of aelab
    saved["optimizer"]["param_groups"].append(dict(saved["optimizer"]["param_groups"][0], params=[]))
    torch.save(saved, ckpt)
    with pytest.raises(AelabError, match="optimizer of 2 parameter groups where this version of aelab makes 1"):
        Trainer(Linear(), cfg, checkpoint=ckpt, progress=False).fit(x[:200], x[200:], resume=True)


def test_a_log_says_once_how_long_a_long_run_will_take_and_nothing_for_a_short_one(capsys, monkeypatch):
    import aelab.train

    x = low_rank_data()
    Trainer(Linear(), TrainConfig(epochs=3, batch_size=64)).fit(x[:200], x[200:])
    assert "epochs left" not in capsys.readouterr().err  # well under LONG_RUN_SECONDS
    monkeypatch.setattr(aelab.train, "LONG_RUN_SECONDS", 0.0)
    Trainer(Linear(), TrainConfig(epochs=3, batch_size=64)).fit(x[:200], x[200:])
    err = capsys.readouterr().err
    assert err.count("epochs left") == 1 and "the 2 epochs left take up to about 0 min (--epochs N trains fewer)" in err


def test_augmentations_keep_shape_and_pixels():
    from aelab.data.augment import flip_and_shift, get_augmentation, random_flip

    x = torch.rand(8, 3, 6, 6)
    g = torch.Generator().manual_seed(0)
    flipped = random_flip(x, g)
    assert all(torch.equal(f, o) or torch.equal(f, o.flip(-1)) for f, o in zip(flipped, x, strict=True))
    shifted = flip_and_shift(x, g)
    assert shifted.shape == x.shape and set(shifted.unique().tolist()) <= set(x.unique().tolist())
    assert get_augmentation("flip", "sequence") is None  # image transforms never touch sequences


def test_bf16_autocast_trains():
    torch.manual_seed(0)
    model, x = Linear(), low_rank_data()
    hist = Trainer(model, TrainConfig(epochs=10, batch_size=16, lr=2e-2, precision="bf16"), progress=False).fit(
        x[:200], x[200:]
    )
    assert hist["loss"][-1] < hist["loss"][0] / 3


def test_contrastive_view_alters_each_image_within_range():
    from aelab.data.augment import contrastive_view

    x = torch.rand(16, 3, 8, 8)
    for channels in (3, 1):
        batch = x[:, :channels]
        view = contrastive_view(batch, torch.Generator().manual_seed(0))
        assert view.shape == batch.shape and 0 <= view.min() and view.max() <= 1
        assert all(not torch.allclose(v, b) for v, b in zip(view, batch, strict=True))
        torch.testing.assert_close(view, contrastive_view(batch, torch.Generator().manual_seed(0)))  # seeded


def test_info_nce_rewards_codes_that_agree_with_their_own_view():
    from aelab.train import info_nce

    z = torch.randn(32, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    agreeing, shuffled = info_nce(z, z + 0.01 * torch.randn_like(z)), info_nce(z, z.roll(1, dims=0))
    assert agreeing < 0.5 * shuffled
    assert torch.autograd.grad(shuffled, z)[0].abs().sum() > 0  # it trains the encoder


class ImageAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.dec = nn.Linear(3 * 4 * 4, 4), nn.Linear(4, 3 * 4 * 4)

    def encode(self, x):
        return self.enc(x.flatten(1))

    def decode(self, z):
        return self.dec(z).view(-1, 3, 4, 4)

    def bounded(self, x_hat):
        return x_hat

    def forward(self, x):
        return self.decode(self.encode(x))


def test_contrastive_term_trains_and_is_recorded_beside_the_reconstruction_loss():
    from aelab.data.augment import contrastive_view

    torch.manual_seed(0)
    x = torch.rand(96, 3, 4, 4)
    cfg = TrainConfig(epochs=4, batch_size=16, lr=1e-2, contrastive=0.1)
    with pytest.raises(AelabError, match="view"):
        Trainer(ImageAE(), cfg, progress=False).fit(x[:64], x[64:])
    hist = Trainer(ImageAE(), cfg, progress=False).fit(x[:64], x[64:], view=contrastive_view)
    assert len(hist["contrastive"]) == 4 and hist["contrastive"][-1] < hist["contrastive"][0]
    assert hist["loss"][-1] < hist["loss"][0]  # `loss` stays the reconstruction MSE
    weights = []
    for weight in (1e-12, 0.1):  # same views drawn, so only the term's gradient can set the two runs apart
        torch.manual_seed(0)
        model = ImageAE()
        Trainer(model, TrainConfig(epochs=4, batch_size=16, lr=1e-2, contrastive=weight), progress=False).fit(
            x[:64], x[64:], view=contrastive_view
        )
        weights.append(model.enc.weight)
    assert not torch.allclose(*weights, atol=1e-3)


def test_contrastive_views_leave_batch_norm_running_statistics_to_the_data():
    import copy

    from aelab.models import create_model
    from aelab.train import Objective

    torch.manual_seed(0)
    model = create_model("cnn", channels=1, height=8, width=8, latent_dim=4).train()
    reference = copy.deepcopy(model)
    x = torch.rand(16, 1, 8, 8)
    Objective(model, contrastive=1.0)(x, torch.ones_like(x))  # views far from the data
    reference(x)
    for (name, got), want in zip(model.named_buffers(), reference.buffers(), strict=True):
        assert torch.equal(got, want), name
    assert all(m.momentum == 0.1 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_a_trimmed_loss_leaves_the_worst_samples_out():
    from aelab.errors import ConfigError
    from aelab.train import Objective

    x = torch.zeros(10, 4)
    x[0] = 100.0  # one sample far off: with trim 0.1 it is not in the loss
    model = nn.Linear(4, 4)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    full, parts = Objective(model)(x)
    trimmed, _ = Objective(model, trim=0.1)(x)
    assert full.item() == pytest.approx(1000.0) and trimmed.item() == 0.0
    assert parts["loss"].item() == pytest.approx(1000.0)  # the reported loss stays the full MSE
    assert evaluate_loss(model, x, trim=0.1)[0] == 0.0 and evaluate_loss(model, x)[0] == pytest.approx(1000.0)
    with pytest.raises(ConfigError, match="trim"):
        TrainConfig(trim=0.6)


def test_clearly_better_asks_for_a_gain_beyond_its_noise():
    start = torch.tensor([2.0, 2.0, 2.1, 1.9])
    assert clearly_better(torch.tensor([1.0, 1.0, 1.0, 1.0]), start)  # every sample gains about 1
    assert not clearly_better(torch.tensor([1.0, 3.0, 1.0, 3.0]), start)  # mean gain 0.025 against swings of 1
    assert not clearly_better(start + 0.1, start)  # worse


def test_few_samples_must_show_a_larger_gain():
    # Student's t, not the normal's 2: the same t = 2.3 is clear over 200 samples, not over 7
    assert critical_t(7) == pytest.approx(2.517, abs=1e-3) and 2.0 < critical_t(200) < 2.02
    assert critical_t(1) == math.inf  # one sample shows no spread
    reference = np.full(200, 5.0)
    for n, expected in ((7, False), (200, True)):
        noise = np.random.default_rng(n).normal(size=n)
        gain = (noise - noise.mean()) / noise.std(ddof=1) + 2.3 / math.sqrt(n)  # paired t exactly 2.3
        assert paired_t(reference[:n] - gain, reference[:n]) == pytest.approx(2.3)
        assert clearly_better(reference[:n] - gain, reference[:n]) is expected


def test_a_pca_start_is_kept_when_training_does_not_clearly_beat_it():
    torch.manual_seed(0)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32))
    model = create_model("dense", n_features=6, latent_dim=2)  # init "pca"
    anchor_to_pca(model, x[:100].numpy())
    start = copy.deepcopy(model.state_dict())
    trainer = Trainer(model, TrainConfig(epochs=3, batch_size=20, lr=1e-6), progress=False)
    trainer.fit(x[:100], x[100:])  # steps this small move validation loss by noise only
    assert trainer.best_epoch == 0
    assert all(torch.equal(start[k], v.cpu()) for k, v in model.state_dict().items())


def test_a_start_on_augmented_data_must_clearly_beat_plain_pca_or_the_run_returns_to_it():
    torch.manual_seed(0)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32))
    model = create_model("dense", n_features=6, latent_dim=2)
    anchor_to_pca(model, x[:100].numpy())
    pca_weights = copy.deepcopy(model.state_dict())
    anchor_to_pca(model, x[:100].numpy() * np.float32([1, 1, 1, 1, 1, 50]))  # a start far from this data's PCA
    trainer = Trainer(model, TrainConfig(epochs=2, batch_size=20, lr=1e-6), progress=False)
    trainer.fit(x[:100], x[100:], pca_weights=pca_weights)
    assert trainer.best_epoch == 0
    assert all(torch.equal(pca_weights[k], v.cpu()) for k, v in model.state_dict().items())


def test_a_confirmed_start_is_the_reference_and_plain_pca_replaces_it_only_when_clearly_better():
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32))

    def run(start_rows, start_confirmed, scale=1.0):
        torch.manual_seed(0)
        model = create_model("dense", n_features=6, latent_dim=2)
        anchor_to_pca(model, x[:100].numpy())
        pca_weights = copy.deepcopy(model.state_dict())
        anchor_to_pca(model, x[start_rows].numpy() * np.float32([1, 1, 1, 1, 1, scale]))
        start = copy.deepcopy(model.state_dict())
        trainer = Trainer(model, TrainConfig(epochs=2, batch_size=20, lr=1e-6), progress=False)
        trainer.fit(x[:100], x[100:], pca_weights=pca_weights, start_confirmed=start_confirmed)
        ends_as = {name: all(torch.equal(w[k], v.cpu()) for k, v in model.state_dict().items()) for name, w in
                   (("start", start), ("plain", pca_weights))}  # fmt: skip
        return trainer.best_epoch, ends_as

    # a start 0.92x plain PCA's validation error, z 1.1: kept when confirmed, not when merely set
    assert run(slice(0, 60), start_confirmed=True) == (0, {"start": True, "plain": False})
    assert run(slice(0, 60), start_confirmed=False) == (0, {"start": False, "plain": True})
    # a confirmed start far from this data's PCA: validation overrules the confirmation
    assert run(slice(0, 100), start_confirmed=True, scale=50.0) == (0, {"start": False, "plain": True})


def test_time_shift_moves_each_sequence_by_at_most_a_twentieth_with_edges_repeated():
    from aelab.data.augment import time_shift

    x = torch.arange(2 * 60 * 2, dtype=torch.float32).view(2, 60, 2).repeat(50, 1, 1)  # 100 sequences of 60 steps
    shifted = time_shift(x, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape
    moves = set()
    for s, o in zip(shifted, x, strict=True):
        move = int((s[30, 0] - o[30, 0]).item()) // -2  # the step each output step copies: t - move
        assert abs(move) <= 3
        expected = o[(torch.arange(60) - move).clamp(0, 59)]
        assert torch.equal(s, expected)
        moves.add(move)
    assert len(moves) > 3  # shifts both ways, not one fixed move
    ragged = torch.rand(40, 60, 2)
    ragged[:, 40:] = float("nan")  # 40 real steps: shifts of at most 2, within them
    shifted = time_shift(ragged, torch.Generator().manual_seed(0))
    assert torch.equal(shifted.isnan(), ragged.isnan())
    for s, o in zip(shifted, ragged, strict=True):
        assert any(torch.equal(s[:40], o[(torch.arange(40) - m).clamp(0, 39)]) for m in range(-2, 3))


def test_weight_decay_is_decoupled_and_spares_biases_norms_and_the_pca_path():
    from aelab.train import make_optimizer

    plain = create_model("cnn", channels=1, height=8, width=8, latent_dim=4)
    assert len(make_optimizer(plain, TrainConfig()).param_groups) == 1  # no decay, no PCA path: the Adam of old runs
    model = create_model("cnn", channels=1, height=8, width=8, latent_dim=4, init="pca")
    assert type(make_optimizer(model, TrainConfig())) is torch.optim.Adam
    optimizer = make_optimizer(model, TrainConfig(weight_decay=0.1))
    assert isinstance(optimizer, torch.optim.AdamW)
    decayed, free, path = ({id(p) for p in g["params"]} for g in optimizer.param_groups)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0, 0.0]
    names = {id(p): name for name, p in model.named_parameters()}
    assert {names[i] for i in decayed} == {
        n for n, p in model.named_parameters() if p.ndim > 1 and not n.startswith("pca_path.")
    }
    assert {names[i] for i in path} == {n for n in names.values() if n.startswith("pca_path.")}
    assert "encoder.0.1.weight" in {names[i] for i in free}  # a batch norm scale
    # with the gradient zero, one step shrinks a decayed weight by lr * decay and leaves the others alone
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    for n, p in model.named_parameters():
        expected = weights[n] * (1 - 1e-3 * 0.1) if id(p) in decayed else weights[n]
        torch.testing.assert_close(p.detach(), expected)


def test_the_pca_path_steps_at_most_a_tenth_of_its_weights_size_and_one_cycle_peaks_there():
    """Adam moves each weight by about lr, and the path's unit axes over D inputs have entries of 1/sqrt(D)."""
    from aelab.train import PCA_PATH_STEP, Trainer, make_optimizer

    small = create_model("dense", n_features=64, latent_dim=4)  # 0.1 / sqrt(64) = 0.0125: the cap does not bind
    assert [g["lr"] for g in make_optimizer(small, TrainConfig(lr=8e-3)).param_groups] == [8e-3, 8e-3]
    large = create_model("dense", n_features=40_000, latent_dim=4, hidden=8)  # 0.1 / 200 = 5e-4
    cfg = TrainConfig(epochs=2, batch_size=8, lr=8e-3, schedule="onecycle")
    assert [g["lr"] for g in make_optimizer(large, cfg).param_groups] == [8e-3, PCA_PATH_STEP / 200]
    trainer = Trainer(large, cfg, progress=False)
    peaks = []

    def record_peaks(*_):
        peaks.append([group["max_lr"] for group in trainer._optimizer.param_groups])

    trainer.fit(torch.randn(16, 40_000), torch.randn(8, 40_000), on_epoch_end=record_peaks)
    assert peaks[0] == [8e-3, PCA_PATH_STEP / 200]


@pytest.mark.parametrize("value", [-0.1, math.inf, math.nan])
def test_weight_decay_must_be_finite_and_not_negative(value):
    with pytest.raises(AelabError, match="weight_decay"):
        TrainConfig(weight_decay=value)

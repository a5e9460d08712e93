"""multitask_loss: value, weights, numerical stability on extreme inputs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from nba_pipeline.training.loss import LossWeights, multitask_loss
from nba_pipeline_tests.test_models.synthetic import NORM, make_batch, tiny_model


def _targets(win, margin, total):
    return SimpleNamespace(win=torch.tensor(win), margin=torch.tensor(margin), total=torch.tensor(total))


def test_loss_equals_bce_plus_huber_plus_huber_by_hand():
    out = {
        "win_logit": torch.tensor([0.0, 2.0]),
        "margin": torch.tensor([0.5, -3.0]),
        "total": torch.tensor([0.0, 0.0]),
    }
    t = _targets([1.0, 0.0], [0.0, 0.0], [0.2, 4.0])
    loss, parts = multitask_loss(out, t)
    bce = (math.log(2) + (2 + math.log1p(math.exp(-2)))) / 2
    huber_margin = (0.5 * 0.5**2 + (3.0 - 0.5)) / 2  # quadratic below delta=1, linear above
    huber_total = (0.5 * 0.2**2 + (4.0 - 0.5)) / 2
    assert math.isclose(parts["win"].item(), bce, rel_tol=1e-6)
    assert math.isclose(parts["margin"].item(), huber_margin, rel_tol=1e-6)
    assert math.isclose(parts["total"].item(), huber_total, rel_tol=1e-6)
    assert math.isclose(loss.item(), bce + huber_margin + huber_total, rel_tol=1e-6)


def test_weights_scale_each_task_and_zero_removes_it():
    out = {"win_logit": torch.tensor([0.3]), "margin": torch.tensor([1.5]), "total": torch.tensor([-2.0])}
    t = _targets([1.0], [0.0], [0.0])
    _, parts = multitask_loss(out, t)
    loss, _ = multitask_loss(out, t, LossWeights(win=2.0, margin=0.0, total=0.5))
    assert math.isclose(loss.item(), 2 * parts["win"].item() + 0.5 * parts["total"].item(), rel_tol=1e-6)


def test_loss_and_gradients_stay_finite_for_saturated_probabilities_and_60_point_margins():
    logits = torch.tensor([1e4, -1e4, 1e4, -1e4, 80.0, -80.0], requires_grad=True)
    margin_pred = torch.zeros(6, requires_grad=True)
    total_pred = torch.zeros(6, requires_grad=True)
    sixty = float(NORM.to_z("margin", torch.tensor(60.0)))
    t = _targets(
        [1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
        [sixty, -sixty, sixty, 1e3, -1e3, 0.0],
        [NORM.to_z("total", 330.0), NORM.to_z("total", 150.0), 0.0, 0.0, 50.0, -50.0],
    )
    loss, parts = multitask_loss({"win_logit": logits, "margin": margin_pred, "total": total_pred}, t)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(v) for v in parts.values())
    for p in (logits, margin_pred, total_pred):
        assert torch.isfinite(p.grad).all()
    # A confidently wrong prediction costs about |logit|, not inf.
    assert 1e4 / 6 < parts["win"].item() < 1e4


def test_all_padding_sequences_give_a_finite_loss_and_gradients_through_the_whole_model():
    torch.manual_seed(0)
    model = tiny_model()
    b = make_batch(4)
    b.mask[:] = False
    b.mask[:, 0] = True  # pregame: CLS only
    loss, _ = multitask_loss(model(b), b)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_gradient_of_the_loss_reaches_every_embedding_of_the_forecaster():
    torch.manual_seed(0)
    model = tiny_model()
    b = make_batch(8)
    loss, _ = multitask_loss(model(b), b)
    loss.backward()
    t = model.transformer
    embeddings = {
        "token": t.token_emb.weight,
        "time": t.time_emb.weight,
        "score": t.score_emb.weight,
        "lineup": t.lineup_emb.weight,
        "edge_type": model.gnn.edge_type_emb.weight,
    }
    for name, w in embeddings.items():
        assert w.grad is not None and w.grad.abs().sum() > 0, name
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad

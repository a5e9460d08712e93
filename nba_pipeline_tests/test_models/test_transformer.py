"""GameFlowTransformer: shapes, masking, gradient flow, parameter count (spec Task 4.1 unit tests)."""

from __future__ import annotations

import pytest
import torch

from nba_pipeline.models.transformer import GameFlowTransformer, TransformerConfig
from nba_pipeline_tests.test_models.synthetic import make_batch


def _inputs(b):
    return b.tokens, b.time_left, b.score_diff, b.lineup, b.mask


def _with_garbage(b):
    """Copy of the sequence inputs with random garbage (out-of-vocabulary ids, NaN, huge values)
    written into every padded position."""
    pad = ~b.mask
    g = torch.Generator().manual_seed(123)
    tokens = torch.where(pad, torch.randint(0, 10_000, b.tokens.shape, generator=g), b.tokens)
    time_left = torch.where(pad, torch.randn(b.time_left.shape, generator=g) * 1e6, b.time_left)
    score = torch.where(pad, torch.full_like(b.score_diff, float("nan")), b.score_diff)
    lineup = torch.where(pad[..., None], torch.rand(b.lineup.shape, generator=g) * 50, b.lineup)
    return tokens, time_left, score, lineup, b.mask


def test_output_shape_is_batch_by_128_with_spec_config():
    b = make_batch(5)
    out = GameFlowTransformer(TransformerConfig())(*_inputs(b))
    assert out.shape == (5, 128)
    assert torch.isfinite(out).all()


def test_default_vocab_size_matches_the_tokenizer_vocabulary():
    from nba_pipeline.features.tokenizer import MAX_EVENTS, VOCAB_SIZE

    cfg = TransformerConfig()
    assert cfg.vocab_size == VOCAB_SIZE
    assert cfg.max_len == MAX_EVENTS + 1 == 51


def test_parameter_count_is_close_to_the_spec_200k():
    n = sum(p.numel() for p in GameFlowTransformer(TransformerConfig()).parameters())
    print(f"GameFlowTransformer parameters: {n:,} (spec ~200,000)")
    assert 0.8 * 200_000 <= n <= 1.25 * 200_000


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_garbage_in_padded_positions_does_not_change_the_output(mode):
    torch.manual_seed(0)
    model = GameFlowTransformer(TransformerConfig())
    model.train(mode == "train")
    b = make_batch(6, seed=3)
    assert (~b.mask).any(), "the synthetic batch must contain padding for this test to mean anything"
    torch.manual_seed(7)  # same dropout masks for both calls in train mode
    clean = model(*_inputs(b))
    torch.manual_seed(7)
    dirty = model(*_with_garbage(b))
    assert torch.isfinite(dirty).all()
    torch.testing.assert_close(dirty, clean, rtol=1e-5, atol=1e-5)


def test_padded_sequence_equals_the_same_sequence_without_padding():
    """Padding is excluded from attention: a sample padded to 51 positions gives the same vector
    as the sample cut to its real length (this fails if src_key_padding_mask is dropped)."""
    torch.manual_seed(0)
    model = GameFlowTransformer(TransformerConfig()).eval()
    b = make_batch(6, seed=5)
    full = model(*_inputs(b))
    for i in range(6):
        n = int(b.mask[i].sum())
        assert b.mask[i, :n].all()
        short = model(
            b.tokens[i : i + 1, :n],
            b.time_left[i : i + 1, :n],
            b.score_diff[i : i + 1, :n],
            b.lineup[i : i + 1, :n],
            b.mask[i : i + 1, :n],
        )
        torch.testing.assert_close(short[0], full[i], rtol=1e-5, atol=1e-5)


def test_a_batch_mixing_pregame_and_in_game_cuts_equals_the_built_in_encoder():
    """Pregame rows (CLS only) take a length-1 shortcut through the encoder; every row must still
    equal ``nn.TransformerEncoder``'s own forward with the padding mask on the same embeddings."""
    torch.manual_seed(0)
    model = GameFlowTransformer(TransformerConfig()).eval()
    b = make_batch(6, seed=5)
    mask = b.mask.clone()
    mask[::2, 1:] = False  # rows 0, 2, 4: pregame cuts
    assert (mask[1::2, 1:].any(dim=1)).all()
    embedded = []
    hook = model.input_dropout.register_forward_hook(lambda m, i, o: embedded.append(o))
    out = model(b.tokens, b.time_left, b.score_diff, b.lineup, mask)
    hook.remove()
    reference = model.out_norm(model.encoder(embedded[0], src_key_padding_mask=~mask)[:, 0])
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-5)


def test_changing_a_real_event_does_change_the_output():
    """Counterpart of the mask test: the output does depend on unmasked positions."""
    torch.manual_seed(0)
    model = GameFlowTransformer(TransformerConfig()).eval()
    b = make_batch(4, seed=3)
    i = int(torch.nonzero(b.mask.sum(1) > 2)[0])
    base = model(*_inputs(b))
    tokens = b.tokens.clone()
    tokens[i, 1] = 3 if tokens[i, 1] != 3 else 4
    changed = model(tokens, b.time_left, b.score_diff, b.lineup, b.mask)
    assert (changed[i] - base[i]).abs().max() > 1e-4
    others = [j for j in range(4) if j != i]
    torch.testing.assert_close(changed[others], base[others])


def test_pregame_sequence_of_cls_only_gives_a_finite_output():
    b = make_batch(3)
    mask = torch.zeros_like(b.mask)
    mask[:, 0] = True
    out = GameFlowTransformer(TransformerConfig())(b.tokens, b.time_left, b.score_diff, b.lineup, mask)
    assert out.shape == (3, 128)
    assert torch.isfinite(out).all()


def test_gradient_flows_to_every_embedding_and_parameter():
    torch.manual_seed(0)
    model = GameFlowTransformer(TransformerConfig())
    b = make_batch(4)
    model(*_inputs(b)).pow(2).sum().backward()
    for name in ("token_emb", "time_emb", "score_emb", "lineup_emb"):
        for pname, p in getattr(model, name).named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient in {name}.{pname}"
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


def test_missing_cls_and_too_long_sequences_raise_clear_errors():
    model = GameFlowTransformer(TransformerConfig())
    b = make_batch(2)
    mask = b.mask.clone()
    mask[0, 0] = False
    with pytest.raises(ValueError, match="CLS"):
        model(b.tokens, b.time_left, b.score_diff, b.lineup, mask)
    long = torch.ones(2, 52, dtype=torch.bool)
    with pytest.raises(ValueError, match="max_len"):
        model(
            torch.ones(2, 52, dtype=torch.long),
            torch.zeros(2, 52),
            torch.zeros(2, 52),
            torch.zeros(2, 52, 20),
            long,
        )

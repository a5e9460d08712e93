"""GameFlowTransformer: encodes the last <= 50 events before a cut into one 128-dim vector.

Each position sums learned projections (event token, time left, score differential, running total,
20-dim lineup participation) and a fixed sinusoidal position code; a 2-layer Transformer encoder
reads the sequence and the CLS position (index 0) is the summary. Padded positions are neutralised
before the encoder (so garbage, even NaN, in them cannot leak) and excluded as attention keys.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nba_pipeline.models.config import TransformerConfig


def sinusoidal_positions(n_positions: int, dim: int) -> torch.Tensor:
    """Fixed sine/cosine position codes [n_positions, dim] (Vaswani et al. 2017)."""
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(n_positions, dim)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div[: dim // 2])
    return pe


class GameFlowTransformer(nn.Module):
    """Sequence of (token, time, score, lineup) events -> [B, d_model] via CLS pooling."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.token_emb = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        self.time_emb = nn.Linear(1, cfg.d_model)
        self.score_emb = nn.Linear(1, cfg.d_model)
        self.total_emb = nn.Linear(1, cfg.d_model)
        self.lineup_emb = nn.Linear(cfg.lineup_dim, cfg.d_model)
        self.register_buffer("positions", sinusoidal_positions(cfg.max_len, cfg.d_model), persistent=False)
        self.input_dropout = nn.Dropout(cfg.dropout)
        layer = nn.TransformerEncoderLayer(
            d_model=cfg.d_model,
            nhead=cfg.n_heads,
            dim_feedforward=cfg.ff_dim,
            dropout=cfg.dropout,
            batch_first=True,
        )
        # enable_nested_tensor=False: the nested-tensor fast path in eval mode would make eval and
        # train numerics differ for padded batches.
        self.encoder = nn.TransformerEncoder(layer, num_layers=cfg.n_layers, enable_nested_tensor=False)
        self.out_norm = nn.LayerNorm(cfg.d_model)

    def forward(
        self,
        tokens: torch.Tensor,
        time_left: torch.Tensor,
        score_diff: torch.Tensor,
        lineup: torch.Tensor,
        mask: torch.Tensor,
        score_total: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tokens int64 [B, L], time_left/score_diff [B, L], lineup [B, L, 20], mask bool [B, L];
        score_total [B, L] (running points above pace / 20) is optional: zeros when absent."""
        bsz, length = tokens.shape
        if length > self.cfg.max_len:
            raise ValueError(
                f"sequence length {length} exceeds max_len {self.cfg.max_len} (CLS + max_events)"
            )
        if lineup.shape != (bsz, length, self.cfg.lineup_dim):
            raise ValueError(
                f"lineup has shape {tuple(lineup.shape)}, expected {(bsz, length, self.cfg.lineup_dim)}"
            )
        if mask.dtype != torch.bool:
            raise TypeError(f"mask must be bool (True = real token), got {mask.dtype}")
        if bsz and not bool(mask[:, 0].all()):
            raise ValueError("mask[:, 0] must be True: position 0 is the CLS token of every sample")
        pad = ~mask
        # Neutralise padded inputs so that nothing there (out-of-vocabulary ids, NaN) reaches the
        # arithmetic; padding is also excluded from attention below.
        tokens = tokens.masked_fill(pad, self.cfg.pad_id)
        if score_total is None:
            score_total = torch.zeros_like(score_diff)
        # The linear input projections as one matmul over the concatenated inputs (the same sum of
        # projections, one pass over the batch instead of one per input).
        parts = [time_left[..., None], score_diff[..., None], score_total[..., None], lineup]
        embs = [self.time_emb, self.score_emb, self.total_emb, self.lineup_emb]
        feats = torch.cat(parts, dim=-1).masked_fill(pad[..., None], 0.0)
        weight = torch.cat([e.weight for e in embs], dim=1)
        bias = self.time_emb.bias + self.score_emb.bias + self.total_emb.bias + self.lineup_emb.bias
        h = self.token_emb(tokens) + nn.functional.linear(feats, weight, bias) + self.positions[:length]
        h = self.input_dropout(h)
        # A cut with no event yet (every pregame sample: half of a training batch) has nothing but
        # its CLS token to attend to, so its summary needs position 0 alone: those rows go through
        # the encoder with length 1 (the same arithmetic without the padded positions' work).
        cls_alone = ~mask[:, 1:].any(dim=1)
        if not bool(cls_alone.any()):
            return self._encode(h, mask)
        if bool(cls_alone.all()):
            return self._encode(h[:, :1], mask[:, :1])
        out = h.new_empty(bsz, h.shape[-1])
        out[cls_alone] = self._encode(h[cls_alone, :1], mask[cls_alone, :1])
        out[~cls_alone] = self._encode(h[~cls_alone], mask[~cls_alone])
        return out

    def _encode(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The encoder layers and the final norm on embedded inputs [B, L, d]: the CLS summary [B, d]."""
        attend = mask[:, None, None, :]  # [B, 1, 1, L]: keys that queries may attend to
        layers = self.encoder.layers
        for layer in layers[:-1]:
            h = _encoder_layer(layer, h, attend, cls_only=False)
        return self.out_norm(_encoder_layer(layers[-1], h, attend, cls_only=True)[:, 0])


def _encoder_layer(
    layer: nn.TransformerEncoderLayer, h: torch.Tensor, attend: torch.Tensor, cls_only: bool
) -> torch.Tensor:
    """``layer(h, src_key_padding_mask=~attend)`` (post-norm ``TransformerEncoderLayer``) written
    out with ``scaled_dot_product_attention``: the same arithmetic in training and evaluation and
    faster on CPU than the built-in fast path. ``cls_only``: evaluate only position 0 ([B, 1, d]),
    since the summary reads nothing else from the last layer: the other positions' queries,
    residuals and feed-forward (over half the layer's work) are skipped; keys and values still come
    from every position."""
    sa = layer.self_attn
    bsz, length, d = h.shape
    heads = sa.num_heads
    w, b = sa.in_proj_weight, sa.in_proj_bias
    if cls_only:
        res = h[:, :1]
        q = nn.functional.linear(res, w[:d], b[:d]).view(bsz, 1, heads, d // heads)
        k, v = nn.functional.linear(h, w[d:], b[d:]).view(bsz, length, 2, heads, d // heads).unbind(2)
    else:
        res = h
        q, k, v = nn.functional.linear(h, w, b).view(bsz, length, 3, heads, d // heads).unbind(2)
    a = nn.functional.scaled_dot_product_attention(
        q.transpose(1, 2),
        k.transpose(1, 2),
        v.transpose(1, 2),
        attn_mask=attend,
        dropout_p=sa.dropout if layer.training else 0.0,
    )
    a = sa.out_proj(a.transpose(1, 2).reshape(bsz, res.shape[1], d))
    x = layer.norm1(res + layer.dropout1(a))
    ff = layer.linear2(layer.dropout(layer.activation(layer.linear1(x))))
    return layer.norm2(x + layer.dropout2(ff))

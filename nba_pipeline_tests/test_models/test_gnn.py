"""PlayerInteractionGNN: shapes, partial lineups, connectivity, side-aware readout (spec Task 4.2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from nba_pipeline.models.gnn import GNNConfig, PlayerInteractionGNN
from nba_pipeline_tests.test_models.synthetic import lineup_graph


def _run(model, graphs, **kw):
    b = Batch.from_data_list(graphs)
    return model(b.x, b.edge_index, b.side, b.batch, edge_weight=b.edge_weight, edge_type=b.edge_type, **kw)


@pytest.fixture()
def model():
    torch.manual_seed(0)
    return PlayerInteractionGNN(GNNConfig()).eval()


def test_output_shape_is_graphs_by_128_for_a_batch_of_full_lineups(model):
    torch.manual_seed(1)
    out = _run(model, [lineup_graph() for _ in range(7)])
    assert out.shape == (7, 128)
    assert torch.isfinite(out).all()


def test_parameter_count_is_close_to_the_spec_100k():
    n = sum(p.numel() for p in PlayerInteractionGNN(GNNConfig()).parameters())
    print(f"PlayerInteractionGNN parameters: {n:,} (spec ~100,000)")
    assert 0.8 * 100_000 <= n <= 1.25 * 100_000


@pytest.mark.parametrize("cross", ["positional", "full"])
def test_partial_lineups_and_an_empty_side_work_in_one_batch(model, cross):
    torch.manual_seed(2)
    sizes = [(5, 5), (3, 5), (5, 2), (0, 4), (4, 0), (1, 1)]
    graphs = [lineup_graph(h, a, cross=cross) for h, a in sizes]
    out = _run(model, graphs)
    assert out.shape == (len(sizes), 128)
    assert torch.isfinite(out).all()
    # Each graph's vector depends only on its own nodes: alone or batched gives the same result.
    for i, g in enumerate(graphs):
        torch.testing.assert_close(_run(model, [g])[0], out[i], rtol=1e-5, atol=1e-5)


def test_trailing_graphs_without_nodes_get_a_row_when_num_graphs_is_given(model):
    g = lineup_graph(5, 5)
    out = model(g.x, g.edge_index, g.side, torch.zeros(10, dtype=torch.long), num_graphs=3)
    assert out.shape == (3, 128)
    torch.testing.assert_close(out[1], out[2])  # two empty graphs look alike


def test_edge_types_implied_by_sides_match_the_lineup_graph_builder():
    from nba_pipeline.features.graphs import LineupGraphBuilder

    rng = np.random.default_rng(0)
    for opp, n_opp in (("positional", 10), ("full", 50)):
        g = LineupGraphBuilder(opponent_edges=opp, chemistry=False).build(
            rng.normal(size=(5, 16)).astype(np.float32), rng.normal(size=(5, 16)).astype(np.float32)
        )
        implied = (g.side[g.edge_index[0]] != g.side[g.edge_index[1]]).long()
        assert torch.equal(implied, g.edge_type)
        assert int((g.edge_type == 0).sum()) == 40 and int((g.edge_type == 1).sum()) == n_opp
        torch.manual_seed(0)
        gnn = PlayerInteractionGNN(GNNConfig()).eval()
        with_types = gnn(g.x, g.edge_index, g.side, edge_weight=g.edge_weight, edge_type=g.edge_type)
        derived = gnn(g.x, g.edge_index, g.side, edge_weight=g.edge_weight)
        torch.testing.assert_close(with_types, derived)


def test_edge_type_and_edge_weight_change_the_output(model):
    torch.manual_seed(3)
    g = lineup_graph(5, 5)
    base = _run(model, [g])
    flipped = g.clone()
    flipped.edge_type = 1 - flipped.edge_type
    assert (base - _run(model, [flipped])).abs().max() > 1e-4
    weighted = g.clone()
    weighted.edge_weight = torch.rand(g.edge_weight.shape)
    assert (base - _run(model, [weighted])).abs().max() > 1e-4
    # edge_weight=None means 1.0 everywhere
    torch.testing.assert_close(model(g.x, g.edge_index, g.side, edge_type=g.edge_type), base)


def test_readout_is_blind_to_node_order_within_a_side_but_not_to_sides(model):
    torch.manual_seed(4)
    g = lineup_graph(5, 5)
    base = _run(model, [g])
    # Relabel nodes: reverse the home players and the away players (a within-side permutation).
    perm = torch.tensor([4, 3, 2, 1, 0, 9, 8, 7, 6, 5])
    inv = torch.argsort(perm)
    shuffled = g.clone()
    shuffled.x = g.x[perm]
    shuffled.edge_index = inv[g.edge_index]
    torch.testing.assert_close(_run(model, [shuffled]), base, rtol=1e-5, atol=1e-5)
    swapped = g.clone()
    swapped.side = 1 - g.side
    assert (base - _run(model, [swapped])).abs().max() > 1e-3


def test_gradient_reaches_every_parameter_including_the_edge_type_embedding():
    torch.manual_seed(5)
    gnn = PlayerInteractionGNN(GNNConfig())
    _run(gnn, [lineup_graph(5, 5), lineup_graph(3, 4)]).pow(2).sum().backward()
    missing = [n for n, p in gnn.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing


def test_bad_side_codes_and_feature_width_raise_clear_errors(model):
    g = lineup_graph(5, 5)
    with pytest.raises(ValueError, match="side"):
        model(g.x, g.edge_index, g.side + 1)
    with pytest.raises(ValueError, match="features per node"):
        model(g.x[:, :15], g.edge_index, g.side)

"""Set2Set-like attention readout whose query starts from the global encoding."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sagatsr.model.segments import segment_softmax


class AttentionReadout(nn.Module):
    """Pool the atoms of each structure with attention from a per-structure query.

    One step: ``r_b = sum_{i in b} softmax_i(q_b . k_i / sqrt(d)) v_i`` (per
    head, softmax over the atoms of structure ``b``), then the query is updated
    residually, ``q_b <- LN(q_b + MLP([q_b || r_b]))``. After ``steps`` steps
    the query is the structure's summary. Cost is linear in the number of atoms.

    Args:
        hidden: Width ``H`` of node vectors and queries.
        heads: Attention heads (divides ``H``).
        steps: Number of attend-and-update steps.
        dropout: Dropout probability on the query update.
    """

    def __init__(self, hidden: int, heads: int, steps: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.steps = steps
        self.query = nn.Linear(hidden, hidden)
        self.key_value = nn.Linear(hidden, 2 * hidden)
        self.update = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, x: Tensor, batch: Tensor) -> Tensor:
        """Read out.

        Args:
            query: ``(B, H)`` initial per-structure query.
            x: ``(n, H)`` node vectors.
            batch: ``(n,)`` structure index of each atom.

        Returns:
            ``(B, H)`` updated query (the structure summary).
        """
        n_graphs = query.shape[0]
        k, v = self.key_value(x).chunk(2, dim=-1)
        k = k.reshape(-1, self.heads, self.head_dim)
        v = v.reshape(-1, self.heads, self.head_dim)
        for _ in range(self.steps):
            q = self.query(query).index_select(0, batch).view(-1, self.heads, self.head_dim)
            alpha = segment_softmax((q * k).sum(-1) / math.sqrt(self.head_dim), batch, n_graphs)
            pooled = (alpha.unsqueeze(-1) * v).reshape(x.shape[0], -1)
            summary = query.new_zeros(n_graphs, pooled.shape[1]).index_add_(0, batch, pooled)
            delta = self.update(torch.cat([query, summary], dim=-1))
            query = self.norm(query + self.dropout(delta))
        return query

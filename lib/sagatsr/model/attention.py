"""Graph attention layer: centre queries, neighbour+edge keys and values, shell biases.

Cost is linear in the number of edges (hence in atoms, since every atom has a
bounded number of neighbours): attention weights are normalised per centre with
:func:`sagatsr.model.segments.segment_softmax` and messages are summed with ``index_add_``.
No dense ``n x n`` tensor is ever formed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional

from sagatsr.model.segments import segment_softmax


class GraphAttentionLayer(nn.Module):
    """One multi-head attention layer updating node and edge vectors.

    For an edge ``j -> i`` (neighbour ``j``, centre ``i``) and head ``h``::

        q = W_q x_i,  k = W_k [x_j || e_ij],  v = W_v [x_j || e_ij]
        logit = q . k / sqrt(d) + b_h(shell_ij)
        alpha = softmax over the neighbours of i
        x_i <- LN(x_i + Dropout(W_o sum_j alpha v))
        x_i <- LN(x_i + Dropout(FFN(x_i)))
        e_ij <- LN(e_ij + Dropout(MLP([x_i || x_j || e_ij])))

    Args:
        hidden: Node width ``H``.
        edge_dim: Edge width ``D``.
        heads: Number of heads (divides ``H``).
        max_shells: Number of learnable shell biases per head.
        dropout: Dropout probability on the residual branches.
        update_edges: Update the edge vectors. The network's last layer does
            not: nothing reads its edges, so it has no edge MLP (whose weights
            would get no gradient, which DDP refuses) and returns the edges
            unchanged.
    """

    def __init__(
        self,
        hidden: int,
        edge_dim: int,
        heads: int,
        max_shells: int,
        dropout: float,
        *,
        update_edges: bool = True,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.max_shells = max_shells
        self.query = nn.Linear(hidden, hidden)
        # W [x_j || e_ij] = W_x x_j + W_e e_ij: the node part is computed per node,
        # then gathered, which is cheaper than a linear map per edge.
        self.key_value_node = nn.Linear(hidden, 2 * hidden)
        self.key_value_edge = nn.Linear(edge_dim, 2 * hidden, bias=False)
        self.shell_bias = nn.Embedding(max_shells, heads)
        nn.init.zeros_(self.shell_bias.weight)
        self.out = nn.Linear(hidden, hidden)
        self.node_norm = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(
            nn.Linear(hidden, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, hidden)
        )
        self.ffn_norm = nn.LayerNorm(hidden)
        self.update_edges = update_edges
        if update_edges:
            # First layer of the edge MLP on [x_i || x_j || e_ij], split the same way.
            self.edge_node = nn.Linear(hidden, 2 * edge_dim)
            self.edge_edge = nn.Linear(edge_dim, edge_dim, bias=False)
            self.edge_out = nn.Sequential(nn.SiLU(), nn.Linear(edge_dim, edge_dim))
            self.edge_norm = nn.LayerNorm(edge_dim)
        self.dropout = nn.Dropout(dropout)
        #: When True, each forward pass keeps its attention weights ``(E, h)`` in
        #: :attr:`last_attention` (see :func:`sagatsr.interpret.attention.attention_weights`).
        self.record_attention = False
        self.last_attention: Tensor | None = None

    def forward(
        self, x: Tensor, edge: Tensor, edge_index: Tensor, edge_shell: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Update nodes, then edges.

        Args:
            x: ``(n, H)`` node vectors.
            edge: ``(E, D)`` edge vectors.
            edge_index: ``(2, E)``; row 0 neighbour (source), row 1 centre (target).
            edge_shell: ``(E,)`` neighbour-shell index (clamped to ``max_shells - 1``).

        Returns:
            ``(x, edge)``, same shapes; ``edge`` is returned unchanged when the
            layer does not update edges.
        """
        src, dst = edge_index[0], edge_index[1]
        n = x.shape[0]
        # index_select (backward: index_add_) rather than x[idx] (backward:
        # index_put_ with accumulation, several times slower on CPU). Keys and
        # values are computed apart (weight slices, not a chunked (E, 2H) tensor,
        # whose backward concatenates the two gradients), each edge part added
        # to the gathered node part inside the matrix product (addmm).
        q = self.query(x).index_select(0, dst).view(-1, self.heads, self.head_dim)  # (E, h, d)
        node_weight, node_bias = self.key_value_node.weight, self.key_value_node.bias
        k, v = (
            torch.addmm(
                functional.linear(x, w_node, b_node).index_select(0, src), edge, w_edge.t()
            ).view(-1, self.heads, self.head_dim)  # (E, h, d)
            for w_node, b_node, w_edge in zip(
                node_weight.chunk(2),
                node_bias.chunk(2),
                self.key_value_edge.weight.chunk(2),
                strict=True,
            )
        )
        shell = edge_shell.clamp(0, self.max_shells - 1)
        # A gather from the (max_shells, heads) table: its backward is an index_add,
        # several times cheaper on CPU than nn.Embedding's dense backward.
        bias = self.shell_bias.weight.index_select(0, shell)  # (E, h)
        logits = (q * k).sum(-1) / math.sqrt(self.head_dim) + bias
        alpha = segment_softmax(logits, dst, n)
        if self.record_attention:
            self.last_attention = alpha.detach()
        message = (alpha.unsqueeze(-1) * v).reshape(-1, self.heads * self.head_dim)
        aggregated = x.new_zeros(n, message.shape[1]).index_add_(0, dst, message)
        x = self.node_norm(x + self.dropout(self.out(aggregated)))
        x = self.ffn_norm(x + self.dropout(self.ffn(x)))
        if not self.update_edges:
            return x, edge
        centre, neighbour = self.edge_node(x).chunk(2, dim=-1)
        hidden_edge = centre.index_select(0, dst) + neighbour.index_select(0, src)
        update = self.edge_out(torch.addmm(hidden_edge, edge, self.edge_edge.weight.t()))
        edge = self.edge_norm(edge + self.dropout(update))
        return x, edge

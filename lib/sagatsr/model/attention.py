"""Graph attention layer: centre queries, neighbour+edge keys and values, shell biases.

Cost is linear in the number of edges (hence in atoms, since every atom has a
bounded number of neighbours): attention weights are normalised per centre with
:func:`sagatsr.model.segments.segment_softmax` and messages are summed with ``index_add_``.
No dense ``n x n`` tensor is ever formed.

The edge parts of keys and values are computed in one of two orders, with the
same result up to rounding (the tests compare both):

* per edge (eager): ``W_e e_ij`` for every edge, one matrix product over the
  ``(E, D)`` edge vectors, added to the gathered node parts;
* per atom (under ``torch.compile``): a head's edge term of a logit is
  ``q_h . (W_e,h e_ij) = (W_e,h^T q_h) . e_ij``, with ``W_e,h^T q_h`` computed once
  per centre atom, and a head's edge term of the message is
  ``sum_j alpha_ijh W_e,h e_ij = W_e,h (sum_j alpha_ijh e_ij)``, one small product
  per centre atom. No ``(E, H)`` key or value tensor exists; what is left per edge
  are gathers from per-atom tables, dot products and sums, which Inductor fuses
  into a few loops (a quarter less time per layer, forward and backward, on the
  medium model's batches on one CPU thread). Run eagerly, those gathers would each
  materialise an ``(E, heads, D)`` tensor, which costs more than the matrix
  products they replace, so eager execution keeps the per-edge order.
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
        shell = edge_shell.clamp(0, self.max_shells - 1)
        # A gather from the (max_shells, heads) table: its backward is an index_add,
        # several times cheaper on CPU than nn.Embedding's dense backward.
        bias = self.shell_bias.weight.index_select(0, shell)  # (E, h)
        attend = self._attend_per_atom if torch.compiler.is_compiling() else self._attend_per_edge
        aggregated, alpha = attend(x, edge, src, dst, bias)
        if self.record_attention:
            self.last_attention = alpha.detach()
        x = self.node_norm(x + self.dropout(self.out(aggregated)))
        x = self.ffn_norm(x + self.dropout(self.ffn(x)))
        if not self.update_edges:
            return x, edge
        centre, neighbour = self.edge_node(x).chunk(2, dim=-1)
        hidden_edge = centre.index_select(0, dst) + neighbour.index_select(0, src)
        update = self.edge_out(torch.addmm(hidden_edge, edge, self.edge_edge.weight.t()))
        edge = self.edge_norm(edge + self.dropout(update))
        return x, edge

    def _attend_per_edge(
        self, x: Tensor, edge: Tensor, src: Tensor, dst: Tensor, bias: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Attention with per-edge keys and values (the eager order; see the module docstring).

        Args:
            x: ``(n, H)`` node vectors.
            edge: ``(E, D)`` edge vectors.
            src: ``(E,)`` neighbour atom of each edge.
            dst: ``(E,)`` centre atom of each edge.
            bias: ``(E, heads)`` shell biases of the logits.

        Returns:
            ``(aggregated, alpha)``: the ``(n, H)`` summed messages and the
            ``(E, heads)`` attention weights.
        """
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
        logits = (q * k).sum(-1) / math.sqrt(self.head_dim) + bias
        alpha = segment_softmax(logits, dst, n)
        message = (alpha.unsqueeze(-1) * v).reshape(-1, self.heads * self.head_dim)
        return x.new_zeros(n, message.shape[1]).index_add_(0, dst, message), alpha

    def _attend_per_atom(
        self, x: Tensor, edge: Tensor, src: Tensor, dst: Tensor, bias: Tensor
    ) -> tuple[Tensor, Tensor]:
        """:meth:`_attend_per_edge` with the edge parts re-associated per centre atom.

        Same arguments and results; the order that ``torch.compile`` runs (see the
        module docstring).
        """
        n, heads, head_dim = x.shape[0], self.heads, self.head_dim
        edge_dim = edge.shape[1]
        q = self.query(x).view(n, heads, head_dim)
        node_keys, node_values = (
            functional.linear(x, w_node, b_node).view(n, heads, head_dim)
            for w_node, b_node in zip(
                self.key_value_node.weight.chunk(2), self.key_value_node.bias.chunk(2), strict=True
            )
        )
        # (H, D) -> (heads, head_dim, D): row h * head_dim + i of W_e is W_e,h's row i.
        edge_keys, edge_values = (
            w.view(heads, head_dim, edge_dim) for w in self.key_value_edge.weight.chunk(2)
        )
        query_edge = torch.einsum("nhi,hik->nhk", q, edge_keys)  # (n, h, D): W_e,h^T q_h
        logits = (q.index_select(0, dst) * node_keys.index_select(0, src)).sum(-1)
        logits = logits + (query_edge.index_select(0, dst) * edge.unsqueeze(1)).sum(-1)
        alpha = segment_softmax(logits / math.sqrt(head_dim) + bias, dst, n)  # (E, h)
        node_message = alpha.unsqueeze(-1) * node_values.index_select(0, src)  # (E, h, d)
        weighted_edges = alpha.unsqueeze(-1) * edge.unsqueeze(1)  # (E, h, D)
        node_sum = x.new_zeros(n, heads * head_dim).index_add_(
            0, dst, node_message.reshape(-1, heads * head_dim)
        )
        edge_sum = x.new_zeros(n, heads * edge_dim).index_add_(
            0, dst, weighted_edges.reshape(-1, heads * edge_dim)
        )
        edge_part = torch.einsum("nhk,hik->nhi", edge_sum.view(n, heads, edge_dim), edge_values)
        return node_sum + edge_part.reshape(n, heads * head_dim), alpha

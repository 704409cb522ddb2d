import pytest
import torch

from sagatsr.model.distinct import distinct_feature_values


def _columns_with_repeats(n_items: int, levels: tuple[int, ...]) -> torch.Tensor:
    """``(n_items, len(levels))`` values; column ``f`` takes ``levels[f]`` distinct values."""
    torch.manual_seed(0)
    columns = [torch.randint(0, k, (n_items,)).double() * 0.37 - 2.0 for k in levels]
    return torch.stack(columns, dim=1)


def test_every_item_reads_its_own_value_from_its_slot() -> None:
    r = _columns_with_repeats(50, (1, 2, 7, 30, 50))
    r[:, 4] = torch.randn(50, dtype=torch.double)  # all distinct
    distinct = distinct_feature_values(r)
    assert distinct.slot.shape == (5, 50)
    torch.testing.assert_close(distinct.values[distinct.slot], r.t(), rtol=0, atol=0)


def test_each_distinct_value_gets_one_slot_in_a_power_of_two_block() -> None:
    r = _columns_with_repeats(300, (1, 3, 9, 40, 200))
    distinct = distinct_feature_values(r, min_width=4)
    widths = {}
    for bucket in distinct.buckets:
        for feature in bucket.features.tolist():
            widths[feature] = bucket.width
    for feature in range(5):
        used = distinct.slot[feature].unique()
        assert used.numel() == r[:, feature].unique().numel()  # one slot per distinct value
        count = used.numel()
        assert widths[feature] >= count and widths[feature] < max(2 * count, 4 + 1)
        assert widths[feature] & (widths[feature] - 1) == 0  # a power of two


def test_buckets_tile_the_slots_in_order_and_widths_stop_at_the_item_count() -> None:
    r = _columns_with_repeats(20, (1, 2, 20, 20))
    r[:, 3] = torch.arange(20.0, dtype=torch.double)  # 20 distinct: 32 rounded, capped at 20
    distinct = distinct_feature_values(r)
    position = 0
    for bucket in distinct.buckets:
        assert bucket.start == position
        assert bucket.width <= 20
        position += bucket.width * bucket.features.numel()
    assert position == distinct.values.numel()
    covered = torch.cat([bucket.features for bucket in distinct.buckets]).sort().values
    assert covered.tolist() == [0, 1, 2, 3]
    for bucket in distinct.buckets:
        for row, feature in enumerate(bucket.features.tolist()):
            first = bucket.start + row * bucket.width
            assert set(distinct.slot[feature].tolist()) <= set(range(first, first + bucket.width))


@pytest.mark.parametrize("n_items", [0, 1])
def test_tiny_batches(n_items: int) -> None:
    r = torch.randn(n_items, 3)
    distinct = distinct_feature_values(r)
    assert distinct.slot.shape == (3, n_items)
    if n_items:
        torch.testing.assert_close(distinct.values[distinct.slot], r.t())


def test_signed_zeros_share_a_slot_and_nans_do_not_break_the_layout() -> None:
    r = torch.tensor([[0.0, float("nan")], [-0.0, 1.0], [0.0, float("nan")]])
    distinct = distinct_feature_values(r)
    assert distinct.slot[0].unique().numel() == 1
    read = distinct.values[distinct.slot].t()
    assert torch.equal(torch.isnan(read), torch.isnan(r))
    assert read[1, 1] == 1.0


def test_dtypes_numpy_cannot_sort_take_torch_sort() -> None:
    r = _columns_with_repeats(30, (2, 5, 30)).to(torch.bfloat16)
    distinct = distinct_feature_values(r)
    assert torch.equal(distinct.values[distinct.slot], r.t())
    assert distinct.slot[0].unique().numel() == r[:, 0].unique().numel()

"""The benchmark chart: generation time against spec size, and the database ratios."""

from __future__ import annotations

from pathlib import Path

from figures import Figure
from generator import TARGETS, SizeResult


def draw(sizes: list[SizeResult], figures: list[Figure], path: Path) -> Path | None:
    """Write a PNG with matplotlib (None when matplotlib is not installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    ratios = [f for f in figures if f.unit == "×" and f.target is not None]
    columns = 2 if ratios else 1
    fig, axes = plt.subplots(1, columns, figsize=(7.5 * columns, 4.8), squeeze=False)
    if sizes:
        _generator_curve(axes[0][0], sizes)
    if ratios:
        _ratio_bars(axes[0][columns - 1], ratios)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _generator_curve(axis: object, sizes: list[SizeResult]) -> None:
    from matplotlib.ticker import NullFormatter

    counts = [size.entities for size in sizes]
    for label, key, marker in (
        ("first generation", "first", "o"),
        ("one field added", "one_field", "s"),
        ("render, nothing changed (cache cold)", "no_change_uncached", "^"),
        ("nothing changed", "no_change", "v"),
    ):
        values = [getattr(size, key).best for size in sizes]
        axis.plot(counts, values, marker=marker, label=label)  # type: ignore[attr-defined]
    targets = [(count, limit) for count, limits in TARGETS.items() for limit in limits.values()]
    axis.scatter(  # type: ignore[attr-defined]
        [count for count, _ in targets],
        [limit for _, limit in targets],
        marker="_",
        s=400,
        color="black",
        label="targets",
    )
    axis.set_xscale("log")  # type: ignore[attr-defined]
    axis.set_yscale("log")  # type: ignore[attr-defined]
    axis.xaxis.set_minor_formatter(NullFormatter())  # type: ignore[attr-defined]
    axis.set_xticks(counts, [str(count) for count in counts])  # type: ignore[attr-defined]
    axis.set_xlabel("entities in the spec")  # type: ignore[attr-defined]
    axis.set_ylabel("wall time, s (best run)")  # type: ignore[attr-defined]
    axis.set_title("entityforge generate")  # type: ignore[attr-defined]
    axis.grid(True, which="both", alpha=0.3)  # type: ignore[attr-defined]
    axis.legend(fontsize=8)  # type: ignore[attr-defined]


def _ratio_bars(axis: object, ratios: list[Figure]) -> None:
    """Each ratio as a share of its target: 1.0 is the target, above it is met."""
    labels = [_short(figure.name) for figure in ratios]
    shares = []
    for figure in ratios:
        assert figure.target is not None
        bound, value = figure.target.bound, figure.value
        shares.append(value / bound if figure.target.op == "ge" else bound / value)
    colours = ["tab:green" if share >= 1 else "tab:red" for share in shares]
    axis.barh(labels, shares, color=colours)  # type: ignore[attr-defined]
    axis.set_xscale("log")  # type: ignore[attr-defined]
    axis.axvline(1.0, color="black", linewidth=1)  # type: ignore[attr-defined]
    for row, (figure, share) in enumerate(zip(ratios, shares, strict=True)):
        assert figure.target is not None
        note = f" {figure.row()[1]} (target {figure.target.describe(figure.unit)})"
        axis.text(share, row, note, va="center", fontsize=7)  # type: ignore[attr-defined]
    axis.set_xlim(0.1, max(shares) * 30)  # type: ignore[attr-defined]
    axis.set_xlabel("figure ÷ target, log scale (≥ 1 is met)")  # type: ignore[attr-defined]
    axis.set_title("ratios against their anchors")  # type: ignore[attr-defined]
    axis.invert_yaxis()  # type: ignore[attr-defined]
    axis.tick_params(axis="y", labelsize=8)  # type: ignore[attr-defined]


def _short(name: str) -> str:
    return name if len(name) <= 58 else name[:56] + "…"

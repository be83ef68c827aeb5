"""The benchmark's results as markdown tables."""

from __future__ import annotations

from typing import Any


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}"


def _interval_lines(f: dict) -> list[str]:
    """The retrained model's intervals on the test split per series, each scale, and the best
    statistical model's own; then the issue's figures."""
    rows = [r for r in f["summary"] if r.get("intervals")]
    if not rows:
        return []
    lines = [
        "Prediction intervals of the retrained model (first seed), calibrated on validation: test "
        "coverage in % (* outside the 95% range of a calibrated interval), and Winkler score "
        "against the best statistical model's own intervals",
        "",
        "| series | transform | calibration / test windows | 80% additive | 95% additive | "
        "80% relative | 95% relative | Winkler 80% additive / best statistical | Winkler 95% "
        "additive / best statistical |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        iv = row["intervals"]
        cells = []
        for scale in ("additive", "relative"):
            for level in ("80", "95"):
                c = iv[scale].get(level)
                cells.append(
                    "-" if c is None else _pct(c["coverage"]) + ("" if c["calibrated"] else "*")
                )
        winkler = []
        for level in ("80", "95"):
            own = iv["additive"].get(level)
            stats = {
                n: s[level]["winkler"]
                for n, s in row["statistical_intervals"].items()
                if level in s
            }
            best = min(stats, key=stats.get) if stats else None
            winkler.append(
                f"{_fmt(own['winkler']) if own else '-'} / "
                + (f"{_fmt(stats[best])} ({best})" if best else "-")
            )
        lines.append(
            f"| {row['series']} | {row['transform']} | {iv['calibration_windows']} / "
            f"{row['test_windows']} | " + " | ".join(cells) + " | " + " | ".join(winkler) + " |"
        )
    lines.append("")
    for fig in f.get("interval_figures", []):
        for scale, levels in fig["scales"].items():
            for level, v in levels.items():
                lines.append(
                    f"Intervals ({fig['transform']}, {scale}, {level}%): median |coverage - "
                    f"level| {_pct(v['median_gap_200_plus'])} points over the "
                    f"{v['series_200_plus']} series with 200+ test windows; inside the "
                    f"calibrated range on {v['inside_calibrated_range']} of {v['series']}; "
                    f"Winkler no worse than the best statistical model on "
                    f"{v['winkler_no_worse_than_best_statistical']} of "
                    f"{v['series_with_statistical']}."
                )
    return lines + [""]


def _statistical_cells(mse: dict[str, float]) -> str:
    """AutoETS, AutoARIMA, AutoTheta and Comb's test MSE as table cells."""
    return " | ".join(
        _fmt(mse[n]) if n in mse else "not fitted"
        for n in ("auto_ets", "auto_arima", "auto_theta", "comb")
    )


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        f"Benchmark ({env['mode']} mode), {env['date']}: {env['cpu']}, {env['cpu_count']} cores, "
        f"{env['gpus']} GPUs, {env['memory_gb']} GB; TF {env['tensorflow']}, Keras {env['keras']}, "
        f"Optuna {env['optuna']}, keras-tuner {env['keras_tuner'] or 'not installed'}",
        "",
    ]
    o = results.get("overhead")
    if o:
        lines += [
            "| overhead | value |",
            "|---|---|",
            f"| bare `model.fit`, {o['epochs']} epochs (median of {o['repeats']}) | {_fmt(o['bare_fit_s'])} s |",
            f"| one-trial `Tuner.search`, same | {_fmt(o['tuner_trial_s'])} s |",
            f"| tuner / bare (ratio of the medians) | {_fmt(o['tuner_over_bare'], 3)} |",
            "| tuner / bare, per A/B repeat (min / median / max) | "
            + " / ".join(
                _fmt(o["tuner_over_bare_per_repeat"][k], 3) for k in ("min", "median", "max")
            )
            + " |",
            f"| bare fit: build / first-epoch tracing / steady epoch | {_fmt(o['build_s'], 2)} / "
            f"{_fmt(o['first_epoch_tracing_s'], 2)} / {_fmt(o['steady_epoch_s'], 2)} s |",
            f"| bare fit: setup (build + tracing) share | {_fmt(o['setup_share_of_trial'], 2)} |",
            f"| tuner trial: first-epoch tracing / its share of the trial | "
            f"{_fmt(o['trial_first_epoch_tracing_s'], 2)} s / {_fmt(o['trial_setup_share'], 2)} |",
            "",
        ]
        spe = o.get("steps_per_execution")
        if spe:
            k = spe["k"]
            lines += [
                f"| batch size | steady epoch, 1 step per call (min/median/max of {spe['repeats']}) "
                f"| {k} steps per call | speed-up | final val_loss 1 / {k} |",
                "|---|---|---|---|---|",
            ]
            for batch, row in spe["batch_sizes"].items():
                cells = [
                    "/".join(_fmt(row[key][m], 3) for m in ("min", "median", "max"))
                    for key in ("epoch_s_1", f"epoch_s_{k}", "speedup")
                ]
                lines.append(
                    f"| {batch} | {cells[0]} s | {cells[1]} s | {cells[2]}x | "
                    f"{_fmt(row['val_loss_1'], 4)} / {_fmt(row[f'val_loss_{k}'], 4)} |"
                )
            lines.append("")
    p = results.get("pipeline")
    if p:
        g, m = p["memory"]["gather"], p["memory"]["materialized"]
        lines += [
            f"| input pipeline (window {p['throughput_window_size']}) | gather (ours) | materialized |",
            "|---|---|---|",
            f"| windows/s, batch 64 | {p['gather_batch64_windows_per_s']:,.0f} | "
            f"{p['materialized_batch64_windows_per_s']:,.0f} |",
            f"| windows/s, batch 256 | {p['gather_batch256_windows_per_s']:,.0f} | "
            f"{p['materialized_batch256_windows_per_s']:,.0f} |",
            f"| peak memory, {g['num_points']:,} points, window {g['window_size']} "
            f"(raw series {g['raw_series_mb']:.0f} MB) | {_fmt(g['peak_above_baseline_mb'])} MB "
            f"({_fmt(g['peak_over_raw'], 2)}x) | {_fmt(m['peak_above_baseline_mb'])} MB "
            f"({_fmt(m['peak_over_raw'], 3)}x) |",
            f"| build time | {g['build_s']:.2f} s | {m['build_s']:.2f} s |",
            "",
        ]
    mem = results.get("memory")
    if mem:
        lines += [
            f"Memory ({mem['search']}): RSS after each trial (MB): "
            + ", ".join(f"{v:.0f}" for v in mem["rss_after_trial_mb"])
            + f"; growth first->last trial {mem['growth_first_to_last_trial_mb']:+.0f} MB.",
            "",
        ]
    s = results.get("search")
    if s:
        lines += [
            f"Search: {s['n_trials']} trials x {s['epochs_per_trial']} epochs, {s['seeds']} seeds",
            "",
            "| dataset | method | median best val MSE | per seed | epochs (total) | median wall s |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["summary"]:
            per_seed = ", ".join(_fmt(v, 3) for v in row["best_val_mse_per_seed"])
            lines.append(
                f"| {row['dataset']} | {row['method']} | {_fmt(row['median_best_val_mse'])} | "
                f"{per_seed} | {row['total_epochs']} | {_fmt(row['median_wall_s'], 3)} |"
            )
        for method, reason in s["skipped"].items():
            lines.append(f"| - | {method} | skipped: {reason} | | | |")
        lines.append("")
        if s.get("time_to_quality"):
            lines += [
                "Time to quality: when each method's best first reached plain TPE's median best",
                "",
                "| dataset | method | target val MSE | seeds that reached it | median time to it | "
                "/ TPE's median wall |",
                "|---|---|---|---|---|---|",
            ]
            for q in s["time_to_quality"]:
                time_to = q["median_time_to_target_s"]
                lines.append(
                    f"| {q['dataset']} | {q['method']} | {_fmt(q['target_val_mse'])} | "
                    f"{q['reached']} of {q['seeds']} | "
                    f"{'never (median)' if time_to is None else _fmt(time_to, 3) + ' s'} | "
                    f"{_fmt(q['ratio'], 2)} |"
                )
            lines.append("")
    pr = results.get("pruning")
    if pr and pr["comparisons"]:
        lines += [
            "| dataset | pruner vs baseline | epochs saved | median best val MSE (pruner / baseline) |",
            "|---|---|---|---|",
        ]
        for c in pr["comparisons"]:
            lines.append(
                f"| {c['dataset']} | {c['pruner']} vs {c['baseline']} | {_fmt(c['epochs_saved'], 2)} | "
                f"{_fmt(c['median_best_val_mse'])} / {_fmt(c['baseline_median_best_val_mse'])} |"
            )
        lines.append("")
    f = results.get("forecast")
    if f and f["summary"]:
        st = f["settings"]
        lines += [
            f"Forecast: {st['n_trials']} trials x {st['epochs']} epochs ({st['space']} space), "
            f"retrained up to {st['retrain_epochs']} epochs, {st['forecast_seeds']} seeds; "
            "test MSE in original units",
            "",
            "| series | transform | window | median retrained | median best trial | "
            "best baseline | wins (of seeds) | AutoETS | AutoARIMA | AutoTheta | Comb | "
            "wins over Comb | re-evaluated (changed) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in f["summary"]:
            stat = row.get("statistical", {})
            lines.append(
                f"| {row['series']} | {row['transform']} | {row['window_size']} | "
                f"{_fmt(row['median_retrained_test_mse'])} | "
                f"{_fmt(row['median_best_trial_test_mse'])} | {row['best_baseline']} "
                f"{_fmt(row['best_baseline_mse'])} | {row['wins_over_best_baseline']}/"
                f"{row['seeds']} | "
                + _statistical_cells(stat)
                + f" | {row.get('wins_over_comb', 0)}/{row['seeds']} | "
                f"{_fmt(row['median_reevaluated_test_mse'])} "
                f"({row['reevaluation_changed_choice']}) |"
            )
        for name, reason in f["skipped"].items():
            lines.append(f"| {name} | skipped: {reason} | | | | | | | | | | | |")
        lines.append("")
        for v in f.get("verdict_figures", []):
            if v["series"]:
                lines.append(
                    f"Summary ({v['transform']}): the LSTM beats the best free baseline on "
                    f"{v['beats_best_baseline']} of {v['series']} series and Comb on "
                    f"{v['beats_comb']} of {v['series_with_comb']}; geometric mean of LSTM / Comb "
                    f"test MSE {_fmt(v['geomean_lstm_over_comb'])}."
                )
        lines.append("")
        lines += _interval_lines(f)
    st = results.get("statistical")
    if st and st["series"]:
        lines += [
            "Statistical models: test MSE with every point of history (one-step, original "
            "units), the best free baseline, and the season detected against the known one",
            "",
            "| series | kind | points | season known / detected | best baseline | AutoETS | "
            "AutoARIMA | AutoTheta | Comb | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, row in st["series"].items():
            full = list(row["by_history"].values())[-1]
            mse = full["mse"]
            best = min(row["baselines"], key=row["baselines"].get)
            lines.append(
                f"| {name} | {row['kind']} | {row['points']} | {row['season_known'] or '-'} / "
                f"{row['season_detected'] or '-'} | {best} {_fmt(row['baselines'][best])} | "
                + _statistical_cells(mse)
                + f" | {_fmt(full['seconds'], 3)} |"
            )
        lines += [
            "",
            "| fitting history | series | Comb MSE / with every point (geomean) | seconds, all "
            "series | Comb beats the best baseline |",
            "|---|---|---|---|---|",
        ]
        for row in st["summary"]:
            lines.append(
                f"| {row['history']} | {row['series']} | {_fmt(row['geomean_comb_mse_vs_all'])} | "
                f"{_fmt(row['seconds'], 3)} | {row['comb_beats_best_baseline']} |"
            )
        lines.append("")
    sg = results.get("storage")
    if sg and sg.get("levels"):
        lines += [
            f"Storage: simulated workers on one PostgreSQL for {sg['seconds']:.0f} s each level "
            "(latency ms, median / p95)",
            "",
            "| workers | connections per worker | trials | count budget | trial overhead | report |",
            "|---|---|---|---|---|---|",
        ]
        for lv in sg["levels"]:
            lat = lv["latency_ms"]
            cells = " | ".join(
                f"{_fmt(lat[k]['median'], 3)} / {_fmt(lat[k]['p95'], 3)}" if k in lat else "-"
                for k in ("count_budget", "trial_overhead", "report")
            )
            lines.append(
                f"| {lv['workers']} | {_fmt(lv['connections_per_worker'], 3)} | {lv['trials']} | "
                f"{cells} |"
            )
        lines.append("")
    elif sg:
        lines += [f"Storage: skipped ({sg['skipped']})", ""]
    lines.append(f"Total wall time: {results['total_wall_s']:.0f} s")
    return "\n".join(lines)

"""Prints the soup bench's table (benches/auto/soup.sh): test macro-F1 per set of the mean
member, the member best on validation, the probability ensemble of all members (averaged
test probabilities, argmax) and the greedy soup, mean ± standard error over split seeds."""
import json
import pathlib
import statistics
import sys



def f1_score(y_true, y_pred, average="macro"):
    """scikit-learn's macro-F1 (classes seen in either list; 0 where undefined)."""
    scores = []
    for c in sorted(set(y_true) | set(y_pred)):
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred))
        fp = sum(t != c and p == c for t, p in zip(y_true, y_pred))
        fn = sum(t == c and p != c for t, p in zip(y_true, y_pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def mean_se(values):
    if len(values) < 2:
        return f"{values[0]:.3f}" if values else ""
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values) / len(values) ** 0.5:.3f}"


def main(root):
    root = pathlib.Path(root)
    print("| data | splits | mean member | best member on validation | ensemble of all | greedy soup (members kept) | soup − best member (paired) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for data in sorted(p for p in root.iterdir() if p.is_dir()):
        rows = {"mean": [], "best": [], "ens": [], "soup": [], "diff": []}
        kept = []
        for split in sorted(p for p in data.iterdir() if p.is_dir()):
            soup_test = split / "soup" / "test.json"
            if not soup_test.is_file():
                continue
            members = sorted(split.glob("member*/metrics.json"))
            tests, vals, probas = [], [], []
            for m in members:
                metrics = json.loads(m.read_text())
                tests.append(metrics["test"]["f1_macro"])
                vals.append(metrics["val"]["f1_macro"])
                pred = json.loads((m.parent / "predictions_test.json").read_text())
                probas.append(pred["proba"])
                y_true = pred["y_true"]
            avg = [[sum(p[i][k] for p in probas) / len(probas) for k in range(len(probas[0][i]))]
                   for i in range(len(y_true))]
            ens = f1_score(y_true, [max(range(len(r)), key=r.__getitem__) for r in avg], average="macro")
            best = tests[max(range(len(vals)), key=lambda i: (vals[i], -i))]
            soup = json.loads(soup_test.read_text())["f1_macro"]
            record = json.loads((split / "soup" / "soup.json").read_text())
            rows["mean"].append(statistics.mean(tests))
            rows["best"].append(best)
            rows["ens"].append(ens)
            rows["soup"].append(soup)
            rows["diff"].append(soup - best)
            kept.append(f"{len(record['members'])}/{len(record['steps'])}")
        if not rows["soup"]:
            continue
        print(f"| {data.name} | {len(rows['soup'])} | {mean_se(rows['mean'])} | {mean_se(rows['best'])} | "
              f"{mean_se(rows['ens'])} | {mean_se(rows['soup'])} ({', '.join(kept)}) | {mean_se(rows['diff'])} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/soup")

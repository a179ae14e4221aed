"""Generate the anomaly benchmark's labelled streams with TimeEval-GutenTAG (run with a Python that has it).

GutenTAG pins old NumPy/SciPy, so it lives in a virtual environment of its own, never in aelab's:

    python3 -m venv ~/.venvs/gutentag && ~/.venvs/gutentag/bin/pip install timeeval-gutentag
    ~/.venvs/gutentag/bin/python benchmarks/gutentag_streams.py OUT_DIR

`bench_anomaly.py` does this itself given `--gutentag-python` (or $AELAB_GUTENTAG_PYTHON). Each stream gets
OUT_DIR/<name>/train.csv (10,000 normal steps) and test.csv (10,000 steps, exactly one anomaly), columns
`timestamp, value-0[, value-1, value-2], is_anomaly`. Only this file imports gutenTAG.
"""

import sys
from pathlib import Path

LENGTH = 10_000
ANOMALY_LENGTH = 100
SEED = 42
BASES = {
    "sine": {"kind": "sine", "frequency": 2.0, "amplitude": 1.0, "variance": 0.05},  # 2 periods per 100 steps
    "ecg": {"kind": "ecg", "frequency": 5.0, "variance": 0.05},  # 5 beats per 100 steps
    "random-walk": {"kind": "random-walk", "amplitude": 1.0, "variance": 0.05, "smoothing": 0.01},
    "cbf": {"kind": "cylinder-bell-funnel", "avg-pattern-length": 50, "variance-pattern-length": 5, "variance": 0.05},
}
# the anomaly kinds each base takes (GutenTAG refuses e.g. a frequency change on a random walk) and their settings
ANOMALIES = {
    "extremum": {"kind": "extremum", "min": False, "local": False},
    "frequency": {"kind": "frequency", "frequency_factor": 2.0},
    "variance": {"kind": "variance", "variance": 0.3},
    "pattern": {"kind": "pattern"},  # plus the base's own pattern setting (PATTERN)
    "mean": {"kind": "mean", "offset": 1.0},
    "platform": {"kind": "platform", "value": 0.0},
    "amplitude": {"kind": "amplitude", "amplitude_factor": 2.0},
}
PATTERN = {"sine": {"sinusoid_k": 10.0}, "cbf": {"cbf_pattern_factor": 2.0}}
SUBSTITUTE = {"random-walk": {"frequency": "platform", "pattern": "amplitude"}, "cbf": {"frequency": "platform"}}
POSITIONS = ("beginning", "middle", "end")


def stream_configs() -> list[dict]:
    """20 univariate streams (4 bases x 5 anomaly kinds) and 4 with 3 features (the anomaly in one of them)."""
    configs = []
    for b, base_name in enumerate(BASES):
        for a, wanted in enumerate(("extremum", "frequency", "variance", "pattern", "mean")):
            kind = SUBSTITUTE.get(base_name, {}).get(wanted, wanted)
            configs.append(_config(f"{base_name}-{kind}", base_name, 1, kind, 0, POSITIONS[(a + b) % 3]))
        kind = ("variance", "mean", "platform", "pattern")[b]
        configs.append(_config(f"{base_name}-3f-{kind}", base_name, 3, kind, 1, "middle"))
    return configs


def _config(name, base_name, features, kind, channel, position) -> dict:
    length = 1 if kind == "extremum" else ANOMALY_LENGTH
    anomaly = {**ANOMALIES[kind], **(PATTERN.get(base_name, {}) if kind == "pattern" else {})}
    return {
        "name": name,
        "length": LENGTH,
        "semi-supervised": True,
        "base-oscillations": [BASES[base_name]] * features,
        "anomalies": [{"length": length, "channel": channel, "position": position, "kinds": [anomaly]}],
    }


def main(out: Path) -> None:
    from gutenTAG import GutenTAG, TrainingType

    for i, config in enumerate(stream_configs()):
        generator = GutenTAG(seed=SEED + i)
        generator.load_config_dict({"timeseries": [config]})
        for dataset in generator.generate(return_timeseries=True):
            frame = dataset.timeseries
            if dataset.training_type == TrainingType.TEST and int(frame["is_anomaly"].sum()) == 0:
                raise SystemExit(f"{config['name']}: GutenTAG placed no anomaly")
            name = "test.csv" if dataset.training_type == TrainingType.TEST else "train.csv"
            (out / config["name"]).mkdir(parents=True, exist_ok=True)
            frame.to_csv(out / config["name"] / name, index_label="timestamp")
        print(config["name"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))

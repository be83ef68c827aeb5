"""The spec's command: python scripts/hparam_search.py --config configs/lstm_baseline.yaml --study-name NAME"""

from lstm_tuner import cli

if __name__ == "__main__":
    cli.run()

"""The command line: `borderflow` (`main.py`) and the programs its commands run."""

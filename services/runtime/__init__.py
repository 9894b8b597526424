"""What every process needs: settings from the environment, logging, metrics."""

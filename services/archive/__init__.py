"""The event archive (issue 7): every borderflow record kept in the database with its Kafka
coordinates, exported by time range to JSONL or Parquet, and the input of replays."""

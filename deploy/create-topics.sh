#!/bin/bash
# Create (or grow) borderflow's topics from topics.txt on Apache Kafka. Idempotent: run it
# on every release. Partitions are only ever added (Kafka cannot remove them); adding some
# to a keyed topic moves keys to new partitions, so do it with the consumers drained.
#   KAFKA_BOOTSTRAP (default kafka-1:9092), TOPICS_FILE (default /etc/borderflow/topics.txt),
#   REPLICATION_FACTOR (default 3), KAFKA_BIN (default /opt/kafka/bin)
set -euo pipefail
bootstrap="${KAFKA_BOOTSTRAP:-kafka-1:9092}"
file="${TOPICS_FILE:-/etc/borderflow/topics.txt}"
rf="${REPLICATION_FACTOR:-3}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
min_isr=$(( rf >= 3 ? 2 : 1 ))  # 2 of 3: one broker may be down, writes still safe
# = BORDERFLOW_KAFKA_MAX_MESSAGE_BYTES + 65536 (streams/clients.py size_limits): the services
# dead-letter larger values by reference; producers and consumers are sized to match
max_bytes="${MAX_MESSAGE_BYTES:-1065536}"
for attempt in $(seq 1 60); do
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --list > /dev/null 2>&1 && break
  echo "waiting for Kafka at $bootstrap ($attempt)"; sleep 2
done
existing="$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --list)"
grep -v '^[[:space:]]*\(#\|$\)' "$file" | while read -r name partitions retention timestamps; do
  # the records' timestamp type when the table gives one (LogAppendTime: the broker's clock)
  ts="${timestamps:+,message.timestamp.type=$timestamps}"
  if grep -qx "$name" <<< "$existing"; then
    have="$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$name" \
      | grep -c 'Partition: ')"
    if [ "$have" -lt "$partitions" ]; then
      echo "growing $name from $have to $partitions partitions"
      "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --alter --topic "$name" \
        --partitions "$partitions"
    fi
    "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --alter --entity-type topics \
      --entity-name "$name" --add-config "retention.ms=$retention,max.message.bytes=$max_bytes$ts"
  else
    echo "creating $name: $partitions partitions, replication $rf, retention $retention ms"
    "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
      --topic "$name" --partitions "$partitions" --replication-factor "$rf" \
      --config "min.insync.replicas=$min_isr" --config "retention.ms=$retention" \
      --config compression.type=producer --config "max.message.bytes=$max_bytes" \
      ${timestamps:+--config "message.timestamp.type=$timestamps"}
  fi
done
echo "topics ready"

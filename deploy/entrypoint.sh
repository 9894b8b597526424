#!/bin/sh
# The image's roles: the first argument picks one; anything else is a `borderflow` command.
#   api | migrate | matcher | orchestrator | manifests | <any other worker role>
set -eu
role="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$role" in
  api) exec borderflow api "$@" ;;
  migrate) exec borderflow migrate "$@" ;;
  matcher|orchestrator|manifests|decider|lane-events|recognizer|archiver|callforward|call-notifier)
    exec borderflow worker "$role" "$@" ;;
  borderflow) exec borderflow "$@" ;;
  *) exec borderflow "$role" "$@" ;;
esac

#!/bin/bash
# Runs count.py on every recording of a directory written by run-profiles.sh; requests = req/s x 16 s recorded.
dir=$1; top=${2:-12}
for jfr in "$dir"/*.jfr; do
  out=${jfr%.jfr}.out
  rps=$(grep -m1 'req/s' "$out" | sed -E 's/.* ([0-9,]+) req\/s.*/\1/' | tr -d ,)
  echo; echo "$(grep -m1 'req/s' "$out" | cut -c1-200)"
  ./count.py "$jfr" $((rps * 16)) "$top"
done

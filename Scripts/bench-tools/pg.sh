# Scripts/bench-tools/pg.sh — the `pg` scenario of Scripts/bench (issue 15 item 6), sourced
# by Scripts/bench (it uses that script's helpers: start_kitt, run_wrk, api, json_field, ...).
#
# A throwaway PostgreSQL (initdb into a temp dir, pg_ctl on 127.0.0.1 and a free port, every
# other setting PostgreSQL's default: fsync, synchronous_commit and full_page_writes on, i.e.
# durable), then, side by side with kitt on SQLite:
#   1. the data scenario: 10,000 results; list, aggregate, heartbeat, durable result POSTs
#   2. the scale scenario's mixed load on a smaller history (BENCH_PG_SCALE_RESULTS, 100,000)
#   3. two kitt instances on one database: durable POSTs and heartbeats with one wrk per
#      instance next to one instance; SSE delivery from a POST on instance A to a subscriber
#      on instance B.
# PostgreSQL is stopped at the end, on any exit (Ctrl-C, the watchdog), and by a small shell
# that watches this script's pid should it be killed outright.

PG_SCALE_RESULTS=${BENCH_PG_SCALE_RESULTS:-100000}
# The data scenario's heartbeats go to 8 agents: on PostgreSQL one agent's heartbeats queue on
# its row lock through each durable COMMIT, so the run is repeated with this many agents.
PG_MANY_AGENTS=${BENCH_PG_AGENTS:-64}
PG_ROWS=()     # SQLite next to PostgreSQL
PG_ROWS2=()    # one instance next to two
PG_DIR="" PG_BIN="" PG_PORT="" PG_PID=""

# The whole run's budget (the watchdog in Scripts/bench): seeding 100,000 results over HTTP
# into PostgreSQL is the long part.
[[ " ${SCENARIOS[*]} " == *" pg "* ]] && BUDGET=$((BUDGET + 3600 + 30 * DURATION))

pg_bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn) /usr/local/pgsql/bin /usr/bin; do
        [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { echo "$dir"; return 0; }
    done
    return 1
}

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
pg_as() { if [[ $(id -u) == 0 ]]; then (cd /tmp && runuser -u postgres -- "$@"); else "$@"; fi; }

pg_start() {
    PG_BIN=$(pg_bin_dir) || return 1
    PG_DIR=$(mktemp -d /tmp/kitt-bench-pg.XXXXXX)
    [[ $(id -u) == 0 ]] && chown postgres: "$PG_DIR"
    trap 'pg_stop; cleanup' EXIT
    # Should this script be killed outright (no EXIT trap), stop the server anyway.
    local stop="$PG_BIN/pg_ctl -D $PG_DIR/data -m immediate -w stop"
    [[ $(id -u) == 0 ]] && stop="runuser -u postgres -- $stop"
    (cd /tmp && while kill -0 $$ 2>/dev/null; do sleep 1; done; $stop; rm -rf "$PG_DIR") </dev/null >/dev/null 2>&1 &
    PIDS+=("$!")
    # Trust on loopback: the URL carries no password (nothing secret in the printed commands).
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U kitt --auth trust -E UTF8 --locale C >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; return 1; }
    local try
    for try in 1 2 3; do   # a free port can be taken between asking and binding
        PG_PORT=$(free_port)
        COMMANDS+=("$PG_BIN/pg_ctl -D \$PGDATA -w start -o '-p $PG_PORT -k \$PGDATA/.. -c listen_addresses=127.0.0.1'   # initdb -U kitt --auth trust; all else default")
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" </dev/null >"$PG_DIR/pg_ctl.log" 2>&1 && break
        PG_PORT=""
    done
    [[ -n $PG_PORT ]] || { cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2; return 1; }
    PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
    log "pg: PostgreSQL $(pg_as "$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

pg_stop() {
    [[ -n $PG_DIR ]] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}

pg_sql() { pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U kitt -d "${PG_DB:-postgres}" -qAt -c "$1"; }
pg_setting() { pg_sql "SHOW $1"; }
pg_url() { echo "postgres://kitt@127.0.0.1:$PG_PORT/$1"; }
pg_new_database() { pg_sql "CREATE DATABASE $1" >/dev/null; pg_url "$1"; }

# The postmaster and its backends. A backend's CPU counts only while it exists: kitt's pooled
# connections live as long as kitt does, so a run's backends are there at its start.
pg_pids() { echo "$PG_PID $(pgrep -P "$PG_PID" | tr '\n' ' ')"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
stored_total() { json_field "$(api GET "$1/api/v1/results/?per_page=1" | cut -d' ' -f2-)" "['total']"; }

# pg_register BASE N — registers N agents, prints their ids
pg_register() {
    local i reply
    for i in $(seq 0 $(($2 - 1))); do
        reply=$(api POST "$1/api/v1/agents/register" "{\"name\":\"bench-agent-$i\",\"hostname\":\"bench-$i.local\",\"gpu_count\":8}")
        json_field "${reply#* }" "['agent_id']"
    done | tr '\n' ' '
}

# The data scenario's four runs against one kitt: pg_data BACKEND PID BASE AGENT_IDS...
# Results in D[BACKEND:KEY].
declare -A D
pg_data() {
    local be=$1 pid=$2 base=$3 with_pg=0
    shift 3
    [[ $be == pg ]] && with_pg=1
    local w="-t2 -c64 -d${DURATION}s" auth="Authorization: Bearer $TOKEN"
    D[$be:total]=$(stored_total "$base")
    export BENCH_TOOLS=$TOOLS BENCH_TOKEN=$TOKEN BENCH_AGENT_IDS
    local kind args
    for kind in list aggregate heartbeat heartbeat-many post; do
        BENCH_AGENT_IDS="${*:1:8}"
        case $kind in
        list) args=("$base/api/v1/results/?per_page=25") ;;
        aggregate) args=(-H "$auth" "$base/api/v1/results/aggregate?group_by=model&metric=avg_tps") ;;
        heartbeat) args=(-s "$TOOLS/heartbeat.lua" "$base") ;;
        heartbeat-many) BENCH_AGENT_IDS="$*" args=(-s "$TOOLS/heartbeat.lua" "$base") ;;
        post) D[$be:before]=$(stored_total "$base") args=(-s "$TOOLS/post_results.lua" "$base") ;;
        esac
        # shellcheck disable=SC2086
        pg_measure "$be-$kind" "$pid" "$with_pg" $w "${args[@]}"
        D[$be:$kind]="$RPS|$P50 / $P99|$LUA_BAD|$CPU_US|$PG_CPU_US|$LOAD"
    done
    D[$be:after]=$(stored_total "$base")
    D[$be:ok]=$(($(awk '/requests in/ { print $1 }' "$WORK/wrk-$be-post.txt") - ${LUA_BAD:-0}))
    D[$be:rss]=$(rss_mb "$pid")
}

# pg_measure LABEL KITT_PID PG? wrk-args — one wrk run; kitt's and PostgreSQL's CPU apart.
pg_measure() {
    local label=$1 kpid=$2 with_pg=$3 k0 p0=0
    shift 3
    k0=$(cpu_ticks "$kpid")
    # shellcheck disable=SC2046
    ((with_pg)) && p0=$(cpu_ticks $(pg_pids))
    run_wrk "$label" - "$@"
    local n k1 p1=0
    n=$(awk '/requests in/ { print $1 }' "$WORK/wrk-$label.txt")
    k1=$(cpu_ticks "$kpid")
    # shellcheck disable=SC2046
    ((with_pg)) && p1=$(cpu_ticks $(pg_pids))
    CPU_US=$(cpu_us_per $((k1 - k0)) "$n")
    PG_CPU_US=-
    ((with_pg)) && PG_CPU_US=$(cpu_us_per $((p1 - p0)) "$n")
    LUA_BAD=$(sed -n 's/.*lua_non2xx=\([0-9]*\).*/\1/p' "$WORK/wrk-$label.txt")
    LUA_BAD=${LUA_BAD:-$NON2XX}
    LOAD=$(load1)
    grep -A3 'non-2xx samples' "$WORK/wrk-$label.txt" >&2 || true
}

pg_f() { local IFS='|'; read -r -a F <<<"${D[$1]}"; }   # splits a D entry into F[0..5]

pg_data_rows() {
    local kind title aim s p
    for kind in list aggregate heartbeat heartbeat-many post; do
        case $kind in
        list) title="GET /results/?per_page=25, req/s" aim="≥ 20,000" ;;
        aggregate) title="GET /results/aggregate?group_by=model&metric=avg_tps, req/s" aim="≥ 3,000" ;;
        heartbeat) title="POST /agents/<id>/heartbeat (8 agents), req/s" aim="" ;;
        heartbeat-many) title="POST /agents/<id>/heartbeat ($PG_MANY_AGENTS agents), req/s" aim="" ;;
        post) title="POST /agents/<id>/results (durable), req/s" aim="≥ 5,000" ;;
        esac
        pg_f "sqlite:$kind"; s=("${F[@]}")
        pg_f "pg:$kind"; p=("${F[@]}")
        PG_ROWS+=("| data | $title | ${s[0]} | ${p[0]} | $(ratio "${p[0]}" "${s[0]}") | ${s[5]} / ${p[5]} | $aim |")
        PG_ROWS+=("| data |   p50 / p99 ms, non-2xx | ${s[1]}, ${s[2]} | ${p[1]}, ${p[2]} | | | |")
        PG_ROWS+=("| data |   CPU µs/req: kitt (+ PostgreSQL) | ${s[3]} | ${p[3]} (+ ${p[4]}) | | | |")
    done
    PG_ROWS+=("| data | results stored at start | ${D[sqlite:total]} | ${D[pg:total]} | | | |")
    PG_ROWS+=("| data | stored before → after the POSTs (2xx answered) | ${D[sqlite:before]} → ${D[sqlite:after]} (${D[sqlite:ok]}) | ${D[pg:before]} → ${D[pg:after]} (${D[pg:ok]}) | | | after ≥ before + 2xx |")
    PG_ROWS+=("| data | kitt RSS after the runs, MB | ${D[sqlite:rss]} | ${D[pg:rss]} | | | |")
}

# pg_mixed BACKEND PORT PID — the scale scenario's mixed load; results in M[BACKEND:KIND].
declare -A M
pg_mixed() {
    local be=$1 port=$2 pid=$3 base=http://127.0.0.1:$2 reply agent total seconds=${BENCH_PG_MIXED_SECONDS:-$((2 * DURATION))}
    reply=$(api POST "$base/api/v1/agents/register" '{"name":"scale-agent","hostname":"scale.local","gpu_count":8}')
    agent=$(json_field "${reply#* }" "['agent_id']")
    [[ -n $agent ]] || { note "pg: $be: agent register failed: $reply"; return 0; }
    total=$(stored_total "$base")
    M[$be:total]=$total
    log "pg: $be: mixed load for ${seconds}s on $total results"
    COMMANDS+=("scalebench mixed 127.0.0.1 $port \$TOKEN <agent id> $seconds $total   # $be")
    local k0 p0=0
    k0=$(cpu_ticks "$pid")
    # shellcheck disable=SC2046
    [[ $be == pg ]] && p0=$(cpu_ticks $(pg_pids))
    [[ $be == pg ]] && pg_waits_start mixed-load
    "$WORK/bin/scalebench" mixed 127.0.0.1 "$port" "$TOKEN" "$agent" "$seconds" "$total" >"$WORK/mixed-$be.txt" || true
    [[ $be == pg ]] && pg_waits_stop mixed-load
    M[$be:load]=$(load1)
    M[$be:cpu]=$(python3 -c "import os,sys; print('%.0f' % (float(sys.argv[1]) * 100 / os.sysconf('SC_CLK_TCK') / float(sys.argv[2])))" \
        "$(($(cpu_ticks "$pid") - k0))" "$seconds")
    # shellcheck disable=SC2046
    [[ $be == pg ]] && M[$be:pgcpu]=$(python3 -c "import os,sys; print('%.0f' % (float(sys.argv[1]) * 100 / os.sysconf('SC_CLK_TCK') / float(sys.argv[2])))" \
        "$(($(cpu_ticks $(pg_pids)) - p0))" "$seconds")
    sed 's/^/   /' "$WORK/mixed-$be.txt" >&2
    local kind line
    for kind in aggregate list-page list-page-filtered list-page-combined compare-100 health result-post; do
        line=$(grep "kind=$kind " "$WORK/mixed-$be.txt" || true)
        M[$be:$kind]="$(pg_kv p50_ms "$line") / $(pg_kv p99_ms "$line") / $(pg_kv max_ms "$line")|$(pg_kv rate "$line"), $(pg_kv non2xx "$line"), $(pg_kv errors "$line")"
    done
}
pg_kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# PostgreSQL's own execution time (EXPLAIN ANALYZE, no kitt, no HTTP) of queries behind the
# mixed load's requests (as Sources/KittStorePostgres runs them), on the database just
# measured: pg_explain DATABASE TOTAL.
PG_EXPLAIN=()
pg_explain() {
    local db=$1 total=$2 label sql ms half=$(($2 / 2))
    local model="meta-llama/Llama-3.1-8B-Instruct"
    for label in \
        "aggregate, metric totals (running totals + pending deltas)|SELECT value, name, sum(count), sum(total) FROM (SELECT value, name, count, total FROM result_metric_totals WHERE kind = 'model' AND name IN ('avg_tps', 'ttft_ms') UNION ALL SELECT value, name, count, total FROM result_total_deltas WHERE kind = 'model' AND name IN ('avg_tps', 'ttft_ms')) m GROUP BY value, name" \
        "list total, no filter (running totals)|SELECT COALESCE(sum(runs), 0) FROM (SELECT runs FROM result_group_totals WHERE kind = 'model' UNION ALL SELECT count FROM result_total_deltas WHERE kind = 'model' AND name IS NULL) g" \
        "list total, two filters (counted)|SELECT count(*) FROM runs WHERE model = '$model' AND engine = 'vllm'" \
        "page at offset $half, no filter|SELECT r.id, r.document FROM (SELECT id, timestamp FROM runs ORDER BY timestamp DESC, id LIMIT 25 OFFSET $half) page JOIN runs r ON r.id = page.id ORDER BY page.timestamp DESC, page.id" \
        "page at offset $((total / 6)), engine = 'vllm'|SELECT r.id, r.document FROM (SELECT id, timestamp FROM runs WHERE engine = 'vllm' ORDER BY timestamp DESC, id LIMIT 25 OFFSET $((total / 6))) page JOIN runs r ON r.id = page.id ORDER BY page.timestamp DESC, page.id" \
        "first page, no filter|SELECT r.id, r.document FROM (SELECT id, timestamp FROM runs ORDER BY timestamp DESC, id LIMIT 25) page JOIN runs r ON r.id = page.id ORDER BY page.timestamp DESC, page.id" \
        "pending deltas not yet folded|SELECT count(*) FROM result_total_deltas"; do
        sql=${label#*|}
        if [[ $label == pending* ]]; then
            ms="$(PG_DB=$db pg_sql "$sql") rows"
        else
            ms="$(PG_DB=$db pg_sql "EXPLAIN (ANALYZE, FORMAT JSON) $sql" | python3 -c 'import json,sys; print("%.1f ms" % json.load(sys.stdin)[0]["Execution Time"])' 2>/dev/null || echo "?")"
            COMMANDS+=("psql -d $db -c \"EXPLAIN ANALYZE $sql\"")
        fi
        PG_EXPLAIN+=("${label%%|*}: $ms")
    done
    # Reads of the running totals scan result_total_deltas: its dead rows count too.
    local row
    while IFS='|' read -r -a row; do
        PG_EXPLAIN+=("table ${row[0]}: ${row[1]} live rows, ${row[2]} dead, ${row[3]}, autovacuumed ${row[4]}×")
    done < <(PG_DB=$db pg_sql "SELECT relname, n_live_tup, n_dead_tup, pg_size_pretty(pg_total_relation_size(relid)), autovacuum_count
        FROM pg_stat_user_tables WHERE relname IN ('result_total_deltas', 'result_group_totals', 'result_metric_totals', 'runs') ORDER BY relname")
}

pg_mixed_rows() {
    local kind s p
    PG_ROWS+=("| mixed | history (results stored) | ${M[sqlite:total]} | ${M[pg:total]} | | ${M[sqlite:load]} / ${M[pg:load]} | |")
    for kind in aggregate list-page list-page-filtered list-page-combined compare-100 health result-post; do
        IFS='|' read -r -a s <<<"${M[sqlite:$kind]}"
        IFS='|' read -r -a p <<<"${M[pg:$kind]}"
        PG_ROWS+=("| mixed | $kind p50 / p99 / max ms | ${s[0]} | ${p[0]} | | | $([[ $kind == result-post ]] && echo "30/s, 0 errors" || echo "p99 < 5") |")
        PG_ROWS+=("| mixed |   rate/s, non-2xx, errors | ${s[1]} | ${p[1]} | | | |")
    done
    PG_ROWS+=("| mixed | CPU during the load, % of one core: kitt (+ PostgreSQL) | ${M[sqlite:cpu]} | ${M[pg:cpu]} (+ ${M[pg:pgcpu]}) | | | |")
}

# Seeding. SQLite: `kitt import` of metrics.json files, as the data and scale scenarios do.
# PostgreSQL: that SQLite store copied by `kitt migrate --to URL` when this kitt has it
# (BENCH_PG_SEED=post: never), else the same documents POSTed over HTTP, 16 connections.
# Each sets SECS (elapsed seconds).
pg_seed_files() {   # pg_seed_files DIR N
    if [[ -f $1/.complete-$2 ]]; then
        log "pg: reusing the $2 metrics.json files in $1"
    else
        log "pg: writing $2 metrics.json files"
        run_logged python3 "$TOOLS/results.py" files "$1" "$2" >&2
        touch "$1/.complete-$2"
    fi
}
pg_elapsed() { python3 -c "import sys; print('%.0f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(date +%s.%N)"; }
pg_import() {   # pg_import DATA_DIR SEED
    local t0
    mkdir -p "$1"
    COMMANDS+=("$KITT import --data-dir $1 $2")
    t0=$(date +%s.%N)
    "$KITT" import --data-dir "$1" "$2" >"$WORK/pg-import.log" 2>&1 || note "pg: kitt import failed: $(tail -1 "$WORK/pg-import.log")"
    SECS=$(pg_elapsed "$t0")
}
pg_migrate() {   # pg_migrate URL SQLITE_DATA_DIR — false when kitt cannot (then seed over HTTP)
    local t0
    [[ ${BENCH_PG_SEED:-migrate} == migrate && $("$KITT" migrate --help 2>&1) == *--to* ]] || return 1
    COMMANDS+=("$KITT migrate --data-dir $2 --to $1")
    t0=$(date +%s.%N)
    if ! "$KITT" migrate --data-dir "$2" --to "$1" >"$WORK/pg-migrate.log" 2>&1; then
        note "pg: kitt migrate --to failed ($(tail -1 "$WORK/pg-migrate.log")); seeding over HTTP"
        return 1
    fi
    SECS=$(pg_elapsed "$t0")
}
pg_post_seed() {   # pg_post_seed BASE AGENT N
    local t0
    COMMANDS+=("python3 Scripts/bench-tools/results.py post $1 \$TOKEN <agent id> $3   # 16 keep-alive connections")
    t0=$(date +%s.%N)
    timeout 3000 python3 "$TOOLS/results.py" post "$1" "$TOKEN" "$2" "$3" >&2 || note "pg: seeding $3 over HTTP reported errors"
    SECS=$(pg_elapsed "$t0")
}

# What PostgreSQL's busy backends wait on during a run: pg_stat_activity sampled every 0.5 s
# (the wait event, or CPU, and the statement), summed up in PG_WAITS for the report.
PG_WAITS=()
pg_waits_start() {
    local out=$WORK/waits-$1.txt
    : >"$out"
    (while :; do
        pg_sql "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 70)
                FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" >>"$out" 2>/dev/null
        echo "--sample--" >>"$out"
        sleep 0.5
    done) </dev/null >/dev/null 2>&1 &
    PG_WAITER=$!
    PIDS+=("$PG_WAITER")
}
pg_waits_stop() {   # pg_waits_stop LABEL
    kill "$PG_WAITER" 2>/dev/null || true
    wait "$PG_WAITER" 2>/dev/null || true
    local out=$WORK/waits-$1.txt samples
    samples=$(grep -c -- --sample-- "$out" || true)
    PG_WAITS+=("$1 ($samples samples; mean active backends $(awk -v s="$samples" '!/--sample--/ { n++ } END { printf "%.1f", s ? n / s : 0 }' "$out")):")
    while read -r line; do PG_WAITS+=("    $line"); done < <(grep -v -- --sample-- "$out" | sort | uniq -c | sort -rn | head -6)
}

# pg_pair LABEL PID_A PID_B BASE_A BASE_B LUA — one wrk per instance at once (32 connections
# each), next to one instance with 64. Adds rows to PG_ROWS2.
pg_pair() {
    local label=$1 pa=$2 pb=$3 ba=$4 bb=$5 lua=$6 one two
    pg_waits_start "$label-one-instance"
    # shellcheck disable=SC2086
    pg_measure "two-$label-one" "$pa" 1 -t2 -c64 -d"${DURATION}s" -s "$TOOLS/$lua" "$ba"
    pg_waits_stop "$label-one-instance"
    local one=("$RPS" "$P50 / $P99" "$LUA_BAD" "$CPU_US" "$PG_CPU_US" "$LOAD")
    local k0 p0 n1 n2 oa=$WORK/wrk-two-$label-a.txt ob=$WORK/wrk-two-$label-b.txt
    k0=$(cpu_ticks "$pa" "$pb")
    # shellcheck disable=SC2046
    p0=$(cpu_ticks $(pg_pids))
    pg_waits_start "$label-two-instances"
    COMMANDS+=("wrk --latency -t1 -c32 -d${DURATION}s -s $TOOLS/$lua $ba & wrk --latency -t1 -c32 -d${DURATION}s -s $TOOLS/$lua $bb   # at once")
    timeout $((DURATION + 30)) wrk --latency -t1 -c32 -d"${DURATION}s" -s "$TOOLS/$lua" "$ba" >"$oa" 2>&1 &
    local wa=$!
    timeout $((DURATION + 30)) wrk --latency -t1 -c32 -d"${DURATION}s" -s "$TOOLS/$lua" "$bb" >"$ob" 2>&1 || true
    wait "$wa" || true
    pg_waits_stop "$label-two-instances"
    n1=$(awk '/requests in/ { print $1 }' "$oa") n2=$(awk '/requests in/ { print $1 }' "$ob")
    local rps_a rps_b bad_a bad_b lat_a lat_b
    rps_a=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$oa") rps_b=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$ob")
    bad_a=$(sed -n 's/.*lua_non2xx=\([0-9]*\).*/\1/p' "$oa") bad_b=$(sed -n 's/.*lua_non2xx=\([0-9]*\).*/\1/p' "$ob")
    lat_a="$(awk '$1 == "50%" { print $2 }' "$oa" | to_ms) / $(awk '$1 == "99%" { print $2 }' "$oa" | to_ms)"
    lat_b="$(awk '$1 == "50%" { print $2 }' "$ob" | to_ms) / $(awk '$1 == "99%" { print $2 }' "$ob" | to_ms)"
    local kcpu pgcpu sum
    sum=$((${n1:-0} + ${n2:-0}))
    kcpu=$(cpu_us_per $(($(cpu_ticks "$pa" "$pb") - k0)) "$sum")
    # shellcheck disable=SC2046
    pgcpu=$(cpu_us_per $(($(cpu_ticks $(pg_pids)) - p0)) "$sum")
    local load
    load=$(load1)
    printf '   %-20s %8s + %s req/s  p50/p99 A %s, B %s ms  non-2xx %s + %s\n' "two-$label" "$rps_a" "$rps_b" "$lat_a" "$lat_b" "$bad_a" "$bad_b" >&2
    grep -h -A3 'non-2xx samples' "$oa" "$ob" >&2 || true
    local title
    case $label in heartbeat) title="POST /agents/<id>/heartbeat (8 agents), req/s" ;;
    heartbeat-many) title="POST /agents/<id>/heartbeat ($PG_MANY_AGENTS agents), req/s" ;; *) title="POST /agents/<id>/results (durable), req/s" ;; esac
    PG_ROWS2+=("| $title | ${one[0]} | $((${rps_a:-0} + ${rps_b:-0})) (A $rps_a + B $rps_b) | $(ratio $((${rps_a:-0} + ${rps_b:-0})) "${one[0]}") | ${one[5]} / $load |")
    PG_ROWS2+=("|   p50 / p99 ms, non-2xx | ${one[1]}, ${one[2]} | A $lat_a, B $lat_b; ${bad_a:-?} + ${bad_b:-?} | | |")
    PG_ROWS2+=("|   CPU µs/req: kitt (+ PostgreSQL) | ${one[3]} (+ ${one[4]}) | $kcpu (+ $pgcpu) | | |")
}

# pg_sse LABEL SUB_PORT PUB_PORT SUB_PID — ssebench: 100 subscribers on SUB_PORT, 50 quick-test
# log lines POSTed on PUB_PORT; sets SSE (a row's cells).
pg_sse() {
    local label=$1 sport=$2 pport=$3 spid=$4 base=http://127.0.0.1:$3 reply agent test
    reply=$(api POST "$base/api/v1/agents/register" "{\"name\":\"bench-sse-$label\",\"hostname\":\"bench-sse.local\"}")
    agent=$(json_field "${reply#* }" "['agent_id']")
    reply=$(api POST "$base/api/v1/quicktest/" "{\"agent_id\":\"$agent\",\"model_path\":\"/models/bench/model.gguf\",\"engine_name\":\"llama_cpp\",\"force\":true}")
    test=$(json_field "${reply#* }" "['id']")
    [[ -n $test ]] || { note "pg: sse $label: no quick test ($reply)"; SSE="- | - | -"; return 0; }
    local args=(--port "$sport" --pub-port "$pport" --n 100 --server-pid "$spid" --timeout 60 --token "$TOKEN"
        --events 50 --interval-ms 100 --pub-path "/api/v1/quicktest/$test/logs" --pub-body '{"line":"bench seq={SEQ} t={T}"}')
    COMMANDS+=("ssebench $(shell_words "${args[@]}")   # $label")
    local out=$WORK/sse-$label.txt
    timeout 120 "$WORK/bin/ssebench" "${args[@]}" >"$out" 2>&1 || true
    sed 's/^/   /' "$out" >&2
    f() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$out" | head -1; }
    SSE="$(f lat_p50_ms) / $(f lat_p99_ms) | $(f delivered) / $(f expected), $(f published_bad) | $(f publish_rtt_p50_ms) | $(load1)"
}

scenario_pg() {
    local bin
    if ! bin=$(pg_bin_dir); then
        note "pg: skipped — PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package"
        return 0
    fi
    log "pg: starting a throwaway PostgreSQL from $bin"
    pg_start || { note "pg: skipped — PostgreSQL did not start"; pg_stop; return 0; }
    local settings
    settings="fsync=$(pg_setting fsync), synchronous_commit=$(pg_setting synchronous_commit), full_page_writes=$(pg_setting full_page_writes), shared_buffers=$(pg_setting shared_buffers), max_connections=$(pg_setting max_connections)"
    NOTES+=("pg: PostgreSQL $(pg_setting server_version) in a temp dir, every setting its default except listen_addresses=127.0.0.1 and the port: $settings (durable: a COMMIT waits for its WAL fsync)")

    # ---- 1. data: 10,000 results, SQLite (kitt import) next to PostgreSQL (POSTs)
    local n=10000 seed=$WORK/pg-seed sp pp base spid ppid agents how url
    pg_seed_files "$seed" "$n"
    pg_import "$WORK/pg-data-sqlite" "$seed"
    local secs=$SECS
    url=$(pg_new_database kitt_data)
    how=post
    pg_migrate "$url" "$WORK/pg-data-sqlite" && how="kitt migrate --to (${SECS}s)"
    sp=$(free_port)
    start_kitt pg-data-sqlite "$sp" --insecure
    spid=$KITT_PID base=http://127.0.0.1:$sp
    agents=$(pg_register "$base" "$PG_MANY_AGENTS")
    log "pg: data on SQLite ($(stored_total "$base") results, imported in ${secs}s)"
    # shellcheck disable=SC2086
    pg_data sqlite "$spid" "$base" $agents
    stop_pid "$spid"

    pp=$(free_port)
    start_kitt pg-data-pg "$pp" --insecure --database "$url"
    ppid=$KITT_PID base=http://127.0.0.1:$pp
    agents=$(pg_register "$base" "$PG_MANY_AGENTS")
    if [[ $how == post ]]; then
        log "pg: seeding $n results into PostgreSQL over HTTP"
        pg_post_seed "$base" "${agents%% *}" "$n"
        how="POSTing the same $n documents (${SECS}s, 16 Python connections)"
    fi
    NOTES+=("pg: data: SQLite seeded by kitt import of $n metrics.json files; PostgreSQL by $how")
    log "pg: data on PostgreSQL ($(stored_total "$base") results)"
    # shellcheck disable=SC2086
    pg_data pg "$ppid" "$base" $agents
    pg_data_rows

    # ---- 3. two instances on that database (A is the one just measured)
    local bp bpid
    bp=$(free_port)
    start_kitt pg-data-pg-b "$bp" --insecure --database "$url"
    bpid=$KITT_PID
    log "pg: two instances on one database: A :$pp, B :$bp"
    local few
    few=$(cut -d' ' -f1-8 <<<"$agents")
    export BENCH_TOOLS=$TOOLS BENCH_TOKEN=$TOKEN BENCH_AGENT_IDS="$few"
    pg_pair post "$ppid" "$bpid" "http://127.0.0.1:$pp" "http://127.0.0.1:$bp" post_results.lua
    pg_pair heartbeat "$ppid" "$bpid" "http://127.0.0.1:$pp" "http://127.0.0.1:$bp" heartbeat.lua
    BENCH_AGENT_IDS="$agents"
    pg_pair heartbeat-many "$ppid" "$bpid" "http://127.0.0.1:$pp" "http://127.0.0.1:$bp" heartbeat.lua
    PG_ROWS2+=("| results stored at the end (both instances answer) | | A $(stored_total "http://127.0.0.1:$pp"), B $(stored_total "http://127.0.0.1:$bp") | | |")
    local sse_same sse_cross sse_sqlite
    pg_sse pg-same "$pp" "$pp" "$ppid"; sse_same=$SSE
    pg_sse pg-cross "$bp" "$pp" "$bpid"; sse_cross=$SSE
    stop_pid "$bpid"
    stop_pid "$ppid"
    sp=$(free_port)
    start_kitt pg-sse-sqlite "$sp" --insecure
    pg_sse sqlite "$sp" "$sp" "$KITT_PID"; sse_sqlite=$SSE
    stop_pid "$KITT_PID"
    PG_SSE_ROWS=("| SQLite, subscribers and publisher on one instance | $sse_sqlite |"
        "| PostgreSQL, subscribers and publisher on one instance | $sse_same |"
        "| PostgreSQL, subscribers on B, publisher POSTs on A | $sse_cross |")

    # ---- 2. the mixed load on a longer history
    local big=$PG_SCALE_RESULTS bigseed=${BENCH_SCALE_SEED:-$WORK/scale-seed}
    pg_seed_files "$bigseed" "$big"
    pg_import "$WORK/pg-scale-sqlite" "$bigseed"
    log "pg: kitt import of $big results: ${SECS}s"
    url=$(pg_new_database kitt_scale)
    how=post
    pg_migrate "$url" "$WORK/pg-scale-sqlite" && how="kitt migrate --to (${SECS}s)"
    sp=$(free_port)
    start_kitt pg-scale-sqlite "$sp" --insecure
    pg_mixed sqlite "$sp" "$KITT_PID"
    stop_pid "$KITT_PID"
    pp=$(free_port)
    start_kitt pg-scale-pg "$pp" --insecure --database "$url"
    ppid=$KITT_PID
    if [[ $how == post ]]; then
        agents=$(pg_register "http://127.0.0.1:$pp" 1)
        log "pg: seeding $big results into PostgreSQL over HTTP"
        pg_post_seed "http://127.0.0.1:$pp" "${agents%% *}" "$big"
        how="POSTs (${SECS}s, $((big / (SECS > 0 ? SECS : 1))) results/s)"
    fi
    NOTES+=("pg: mixed: $big results; SQLite by kitt import, PostgreSQL by $how")
    pg_mixed pg "$pp" "$ppid"
    pg_explain kitt_scale "${M[pg:total]}"
    stop_pid "$ppid"
    pg_mixed_rows
    pg_stop
    pg_tables
}

pg_tables() {
    echo
    echo "## kitt bench pg — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; kitt $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null), plain HTTP, --duration $DURATION"
    echo
    echo "| scenario | metric | kitt on SQLite | kitt on PostgreSQL | PG/SQLite | load (1 min) SQLite / PG | aim |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${PG_ROWS[@]}"
    echo
    echo "Two kitt instances on one PostgreSQL database (wrk: one instance -t2 -c64; two: -t1 -c32 on each at once)"
    echo
    echo "| metric | one instance | two instances | two/one | load (1 min) one / two |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${PG_ROWS2[@]}"
    echo
    echo "SSE: 100 subscribers (plain), 50 quick-test log lines POSTed 100 ms apart"
    echo
    echo "| where | delivery p50 / p99 ms | delivered / expected, publish non-2xx | publishing POST p50 ms | load (1 min) |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${PG_SSE_ROWS[@]}"
    echo
    echo "PostgreSQL's execution time of the mixed load's queries on ${M[pg:total]:-?} results (EXPLAIN ANALYZE, load $(load1)):"
    echo
    printf '    %s\n' "${PG_EXPLAIN[@]}"
    echo
    echo "What PostgreSQL's busy backends were doing (pg_stat_activity every 0.5 s: count, wait event or CPU, statement):"
    echo
    printf '    %s\n' "${PG_WAITS[@]}"
}

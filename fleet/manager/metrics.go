package manager

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// delayBuckets are the upper bounds (seconds) of the publish-to-state
// delay histogram.
var delayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10}

var channels = []string{"state", "health", "event", "ack"}

type metrics struct {
	msgs        map[string]*atomic.Uint64
	invalids    map[string]*atomic.Uint64
	rateLimited atomic.Uint64
	revokedMsgs atomic.Uint64
	dbWrites    atomic.Uint64
	dbDropped   atomic.Uint64
	commands    atomic.Uint64
	logins      atomic.Uint64 // refused
	mu          sync.Mutex
	delay       []uint64 // per bucket, plus +Inf
	delaySum    float64
	delayN      uint64
}

func (mt *metrics) init() {
	mt.msgs, mt.invalids = map[string]*atomic.Uint64{}, map[string]*atomic.Uint64{}
	for _, c := range append([]string{"cmd", "topic"}, channels...) {
		mt.msgs[c], mt.invalids[c] = new(atomic.Uint64), new(atomic.Uint64)
	}
	mt.delay = make([]uint64, len(delayBuckets)+1)
}

func (mt *metrics) count(ch string) {
	if c := mt.msgs[ch]; c != nil {
		c.Add(1)
	}
}

func (mt *metrics) invalid(ch string) {
	if c := mt.invalids[ch]; c != nil {
		c.Add(1)
	}
}

func (mt *metrics) observeDelay(d time.Duration) {
	s := d.Seconds()
	mt.mu.Lock()
	defer mt.mu.Unlock()
	i := 0
	for i < len(delayBuckets) && s > delayBuckets[i] {
		i++
	}
	mt.delay[i]++
	mt.delaySum += s
	mt.delayN++
}

// writeMetrics writes the Prometheus text exposition format.
func (w *Web) writeMetrics(rw http.ResponseWriter, _ *http.Request, _ User) {
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
	m := w.m
	s := m.Summary()
	mt := &m.metrics
	fmt.Fprintln(rw, "# HELP fleetd_kiosks Kiosks by status.\n# TYPE fleetd_kiosks gauge")
	for _, st := range Statuses {
		fmt.Fprintf(rw, "fleetd_kiosks{status=%q} %d\n", st, s.By[st])
	}
	fmt.Fprintln(rw, "# HELP fleetd_kiosks_enrollment Kiosks by enrollment.\n# TYPE fleetd_kiosks_enrollment gauge")
	fmt.Fprintf(rw, "fleetd_kiosks_enrollment{state=\"enrolled\"} %d\nfleetd_kiosks_enrollment{state=\"revoked\"} %d\nfleetd_kiosks_enrollment{state=\"never_seen\"} %d\n",
		s.Enrolled, s.Revoked, s.NeverSeen)
	fmt.Fprintln(rw, "# HELP fleetd_broker_up Whether fleetd hears the fleet through this broker.\n# TYPE fleetd_broker_up gauge")
	for _, b := range s.Brokers {
		up := 0
		if b.Up {
			up = 1
		}
		fmt.Fprintf(rw, "fleetd_broker_up{broker=%q} %d\n", b.URL, up)
	}
	counts := map[AlertKind]int{}
	all, _ := m.Alerts(0)
	for _, a := range all {
		if !a.Acked {
			counts[a.Kind]++
		}
	}
	fmt.Fprintln(rw, "# HELP fleetd_alerts Unacknowledged alerts by kind.\n# TYPE fleetd_alerts gauge")
	for _, k := range AlertKinds {
		fmt.Fprintf(rw, "fleetd_alerts{kind=%q} %d\n", k, counts[k])
	}
	fmt.Fprintln(rw, "# HELP fleetd_messages_total MQTT messages received by channel.\n# TYPE fleetd_messages_total counter")
	for _, c := range channels {
		fmt.Fprintf(rw, "fleetd_messages_total{channel=%q} %d\n", c, mt.msgs[c].Load())
	}
	fmt.Fprintln(rw, "# HELP fleetd_messages_invalid_total Messages refused: bad topic, too large, malformed or out of range.\n# TYPE fleetd_messages_invalid_total counter")
	for _, c := range append([]string{"topic"}, channels...) {
		fmt.Fprintf(rw, "fleetd_messages_invalid_total{channel=%q} %d\n", c, mt.invalids[c].Load())
	}
	fmt.Fprintf(rw, "# TYPE fleetd_messages_rate_limited_total counter\nfleetd_messages_rate_limited_total %d\n", mt.rateLimited.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_messages_revoked_total counter\nfleetd_messages_revoked_total %d\n", mt.revokedMsgs.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_commands_sent_total counter\nfleetd_commands_sent_total %d\n", mt.commands.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_logins_refused_total counter\nfleetd_logins_refused_total %d\n", mt.logins.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_db_records_written_total counter\nfleetd_db_records_written_total %d\n", mt.dbWrites.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_db_records_dropped_total counter\nfleetd_db_records_dropped_total %d\n", mt.dbDropped.Load())
	fmt.Fprintf(rw, "# HELP fleetd_db_pending Records not yet written.\n# TYPE fleetd_db_pending gauge\nfleetd_db_pending %d\n", m.Pending())
	fmt.Fprintf(rw, "# TYPE fleetd_db_write_queue gauge\nfleetd_db_write_queue %d\n", len(m.writes))
	m.writeOpsMetrics(rw)
	mt.mu.Lock()
	defer mt.mu.Unlock()
	fmt.Fprintln(rw, "# HELP fleetd_health_delay_seconds Time from a kiosk's health timestamp to fleetd's state.\n# TYPE fleetd_health_delay_seconds histogram")
	var cum uint64
	for i, le := range delayBuckets {
		cum += mt.delay[i]
		fmt.Fprintf(rw, "fleetd_health_delay_seconds_bucket{le=\"%g\"} %d\n", le, cum)
	}
	fmt.Fprintf(rw, "fleetd_health_delay_seconds_bucket{le=\"+Inf\"} %d\n", cum+mt.delay[len(delayBuckets)])
	fmt.Fprintf(rw, "fleetd_health_delay_seconds_sum %g\nfleetd_health_delay_seconds_count %d\n", mt.delaySum, mt.delayN)
}

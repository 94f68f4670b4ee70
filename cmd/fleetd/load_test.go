package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet/sim"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// TestLoad is the fleet load test of issues 9 and 14, opt-in because it is
// heavy (loopback only, a few minutes):
//
//	FLEETD_LOAD_KIOSKS=15000 go test -run TestLoad -v -timeout 10m ./cmd/fleetd/
//	FLEETD_LOAD_KIOSKS=50000 FLEETD_LOAD_SHARDS=4 go test -run TestLoad -v -timeout 10m ./cmd/fleetd/
//
// It builds fleetd and starts it; with FLEETD_LOAD_SHARDS=S > 0 the kiosks
// connect to S Mosquitto processes (anonymous, loopback) that fleetd hears
// through -broker, otherwise to fleetd's embedded broker, enrolled one by
// one. The kiosks are lean simulated kiosks (fleetd simulate -lean), the
// agent's wire protocol with real payloads, in processes of at most
// FLEETD_LOAD_PER_PROC (12,500) each: a process may hold at most as many
// sockets as its open-file limit allows (20,000 on the development
// machine), fleetd's and Mosquitto's included. After the ramp it measures
// a steady window (FLEETD_LOAD_WINDOW, default 60 s) with health every
// FLEETD_LOAD_HEALTH (10 s): health received against due, the kiosk's
// timestamp → fleetd's state delay (p50, p99), what was dropped, fleetd's
// CPU and resident memory. It asserts only that fleetd kept up.
func TestLoad(t *testing.T) {
	n := envInt("FLEETD_LOAD_KIOSKS", 0)
	if n <= 0 {
		t.Skip("opt-in: set FLEETD_LOAD_KIOSKS=15000 (embedded broker) or FLEETD_LOAD_KIOSKS=50000 FLEETD_LOAD_SHARDS=4")
	}
	shards, perProc := envInt("FLEETD_LOAD_SHARDS", 0), envInt("FLEETD_LOAD_PER_PROC", 12500)
	window, health := envDur("FLEETD_LOAD_WINDOW", time.Minute), envDur("FLEETD_LOAD_HEALTH", 10*time.Second)
	ramp := envDur("FLEETD_LOAD_RAMP", time.Duration(n)*time.Millisecond)
	const sites = 40
	bin, dir := fleetdBinary(t), t.TempDir()
	httpAddr := freePort(t)
	args := []string{"-data", filepath.Join(dir, "data"), "-http", httpAddr, "-health-interval", health.String()}
	var brokers []string
	if shards > 0 {
		mosq := itest.Command(t, "mosquitto", "mosquitto")
		for i := range shards {
			addr := freePort(t)
			conf := filepath.Join(dir, fmt.Sprintf("mosquitto-%d.conf", i))
			_, port, _ := strings.Cut(addr, ":")
			os.WriteFile(conf, []byte(fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"+
				"max_packet_size 1069056\nmax_keepalive 300\nset_tcp_nodelay true\nlog_dest none\n", port)), 0o600)
			cmd := exec.Command(mosq, "-c", conf)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitTCP(t, addr)
			brokers = append(brokers, "mqtt://"+addr)
		}
		args = append(args, "-broker", strings.Join(brokers, ","))
	} else {
		mq := freePort(t)
		brokers = []string{"mqtt://" + mq}
		args = append(args, "-mqtt", mq)
	}
	p := startFleetd(t, args...)
	pid := p.cmd.Process.Pid
	c := p.client(p.banner["password"])

	var simArgs [][]string
	for first := 0; first < n; first += perProc {
		k := min(perProc, n-first)
		a := []string{"simulate", "-lean", "-n", strconv.Itoa(k), "-first", strconv.Itoa(first), "-sites", strconv.Itoa(sites),
			"-broker", strings.Join(brokers, ","), "-health", health.String(), "-ramp", (ramp * time.Duration(k) / time.Duration(n)).String(),
			"-stats", "10s"}
		if shards > 0 {
			a = append(a, "-anonymous")
		} else {
			var names []string
			for i := first; i < first+k; i++ {
				names = append(names, sim.Ref(i, sites).String())
			}
			start := time.Now()
			creds, err := c.enroll(names)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("enrolled %d kiosks in %v", len(creds), time.Since(start).Round(time.Millisecond))
			f := filepath.Join(dir, fmt.Sprintf("creds-%d", first))
			var b strings.Builder
			for _, cr := range creds {
				fmt.Fprintf(&b, "%s %s\n", cr.Kiosk, cr.Password)
			}
			os.WriteFile(f, []byte(b.String()), 0o600)
			a = append(a, "-credentials", f)
		}
		simArgs = append(simArgs, a)
	}
	simOut := make([]*lockedBuf, len(simArgs))
	for i, a := range simArgs { // in parallel: each ramps its share
		cmd := exec.Command(bin, a...)
		simOut[i] = &lockedBuf{}
		cmd.Stdout, cmd.Stderr = simOut[i], simOut[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	online := func(m map[string]float64) float64 {
		return m[`fleetd_kiosks{status="online"}`] + m[`fleetd_kiosks{status="faulty"}`]
	}
	start := time.Now()
	for end := start.Add(ramp + 3*time.Minute); time.Now().Before(end); time.Sleep(5 * time.Second) {
		if online(scrape(t, p.http)) >= float64(n) {
			break
		}
	}
	t.Logf("all %d kiosks online in fleetd %v after the simulators started (ramp %v)", n, time.Since(start).Round(time.Second), ramp)
	time.Sleep(10 * time.Second)
	before, cpu0, t0 := scrape(t, p.http), cpuTicks(t, pid), time.Now()
	time.Sleep(window)
	after, cpu1, elapsed := scrape(t, p.http), cpuTicks(t, pid), time.Since(t0)
	got := after[`fleetd_messages_total{channel="health"}`] - before[`fleetd_messages_total{channel="health"}`]
	due := float64(n) * elapsed.Seconds() / health.Seconds()
	total := after["fleetd_health_delay_seconds_count"] - before["fleetd_health_delay_seconds_count"]
	quantile := func(q float64) string {
		for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "1.5", "2", "3", "5", "10"} {
			k := `fleetd_health_delay_seconds_bucket{le="` + le + `"}`
			if (after[k]-before[k])/total >= q {
				return "≤ " + le + " s"
			}
		}
		return "> 10 s"
	}
	mean := (after["fleetd_health_delay_seconds_sum"] - before["fleetd_health_delay_seconds_sum"]) / total
	delta := func(k string) float64 { return after[k] - before[k] }
	topo := "fleetd's embedded broker"
	if shards > 0 {
		topo = fmt.Sprintf("%d Mosquitto brokers heard through -broker", shards)
	}
	t.Logf("%d kiosks on %s, %d simulator processes, health every %v, window %v", n, topo, len(simArgs), health, elapsed.Round(time.Second))
	t.Logf("health received %.0f of %.0f due (%.1f %%), %.0f msg/s; online %.0f", got, due, 100*got/due, got/elapsed.Seconds(), online(after))
	t.Logf("kiosk timestamp → fleetd state: mean %.3f s, p50 %s, p90 %s, p99 %s", mean, quantile(0.5), quantile(0.9), quantile(0.99))
	t.Logf("dropped in the window: invalid %.0f, rate-limited %.0f, history writes %.0f; write queue %.0f",
		delta(`fleetd_messages_invalid_total{channel="health"}`), delta("fleetd_messages_rate_limited_total"),
		delta("fleetd_db_records_dropped_total"), after["fleetd_db_write_queue"])
	t.Logf("fleetd CPU %.0f %% of one core; memory VmRSS %d MiB, VmHWM (peak) %d MiB",
		100*float64(cpu1-cpu0)/100/elapsed.Seconds(), rssMiB(t, pid, "VmRSS"), rssMiB(t, pid, "VmHWM"))
	for i, o := range simOut {
		lines := strings.Split(strings.TrimSpace(o.String()), "\n")
		t.Logf("simulator %d: %s", i, lines[len(lines)-1])
	}
	if got < 0.95*due {
		t.Errorf("fleetd received %.0f health messages of %.0f due: it did not keep up", got, due)
	}
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return n
	}
	return def
}

func envDur(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return d
	}
	return def
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s does not accept connections", addr)
}

// scrape reads fleetd's /metrics into name{labels} → value.
func scrape(t *testing.T, base string) map[string]float64 {
	c := &http.Client{Timeout: 30 * time.Second}
	r, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func rssMiB(t *testing.T, pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return kb / 1024
		}
	}
	return -1
}

// cpuTicks is the process's user and system time in clock ticks (1/100 s).
func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

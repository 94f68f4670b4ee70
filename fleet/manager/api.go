package manager

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func (w *Web) apiRoutes() {
	w.mux.HandleFunc("GET /api/v1/summary", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		writeJSON(rw, http.StatusOK, w.m.Summary())
	}))
	w.mux.HandleFunc("GET /api/v1/kiosks", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		writeJSON(rw, http.StatusOK, w.m.Kiosks(filterFrom(r.URL.Query())))
	}))
	w.mux.HandleFunc("GET /api/v1/kiosks/{site}/{kiosk}", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		name := r.PathValue("site") + "/" + r.PathValue("kiosk")
		k, ok := w.m.Kiosk(name)
		if !ok {
			writeJSON(rw, http.StatusNotFound, apiError{"no such kiosk"})
			return
		}
		evs, _ := w.m.Events(name, time.Now().Add(-24*time.Hour), 100)
		cmds, _ := w.m.Commands(name, 30)
		writeJSON(rw, http.StatusOK, map[string]any{"kiosk": k, "events": evs, "commands": cmds})
	}))
	w.mux.HandleFunc("POST /api/v1/kiosks/{site}/{kiosk}/commands", w.auth(w.apiSend))
	w.mux.HandleFunc("GET /api/v1/commands/{id}", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		rec, ok, err := w.m.Command(r.PathValue("id"))
		if err != nil || !ok {
			writeJSON(rw, http.StatusNotFound, apiError{"no such command"})
			return
		}
		writeJSON(rw, http.StatusOK, rec)
	}))
	w.mux.HandleFunc("GET /api/v1/alerts", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		writeJSON(rw, http.StatusOK, w.m.Alerts())
	}))
	w.mux.HandleFunc("POST /api/v1/alerts/ack", w.auth(func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Kiosk string    `json:"kiosk"`
			Kind  AlertKind `json:"kind"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 4096)).Decode(&req); err != nil {
			writeJSON(rw, http.StatusBadRequest, apiError{"want {\"kiosk\":…,\"kind\":…}"})
			return
		}
		if err := w.m.AckAlert(u, req.Kiosk, req.Kind); err != nil {
			writeJSON(rw, statusFor(err), apiError{err.Error()})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]string{"status": "acknowledged"})
	}))
	w.mux.HandleFunc("GET /api/v1/audit", w.auth(func(rw http.ResponseWriter, r *http.Request, _ User) {
		a, _ := w.m.Audit(1000)
		writeJSON(rw, http.StatusOK, a)
	}))
}

type apiError struct {
	Error string `json:"error"`
}

func statusFor(err error) int {
	if errors.Is(err, ErrNotOperator) {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func (w *Web) apiSend(rw http.ResponseWriter, r *http.Request, u User) {
	var req struct {
		Name     fleet.CommandName `json:"name"`
		Language string            `json:"language"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{"want {\"name\":…}"})
		return
	}
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	if _, ok := w.m.Kiosk(name); !ok {
		writeJSON(rw, http.StatusNotFound, apiError{"no such kiosk"})
		return
	}
	rec, err := w.m.Send(u, name, req.Name, req.Language)
	if err != nil {
		writeJSON(rw, statusFor(err), apiError{err.Error()})
		return
	}
	writeJSON(rw, http.StatusAccepted, rec)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// metrics writes the Prometheus text exposition format.
func (w *Web) metrics(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s := w.m.Summary()
	mt := &w.m.metrics
	fmt.Fprintln(rw, "# HELP fleetd_kiosks Kiosks by status.\n# TYPE fleetd_kiosks gauge")
	for _, st := range Statuses {
		fmt.Fprintf(rw, "fleetd_kiosks{status=%q} %d\n", st, s.By[st])
	}
	counts := map[AlertKind]int{}
	for _, a := range w.m.Alerts() {
		if !a.Acked {
			counts[a.Kind]++
		}
	}
	fmt.Fprintln(rw, "# HELP fleetd_alerts Unacknowledged alerts by kind.\n# TYPE fleetd_alerts gauge")
	for _, k := range alertKinds {
		fmt.Fprintf(rw, "fleetd_alerts{kind=%q} %d\n", k, counts[k])
	}
	fmt.Fprintln(rw, "# HELP fleetd_messages_total MQTT messages received by channel.\n# TYPE fleetd_messages_total counter")
	for _, c := range []string{"state", "health", "event", "ack"} {
		fmt.Fprintf(rw, "fleetd_messages_total{channel=%q} %d\n", c, mt.msgs[c].Load())
	}
	fmt.Fprintf(rw, "# TYPE fleetd_messages_invalid_total counter\nfleetd_messages_invalid_total %d\n", mt.invalid.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_commands_sent_total counter\nfleetd_commands_sent_total %d\n", mt.commands.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_db_records_written_total counter\nfleetd_db_records_written_total %d\n", mt.dbWrites.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_db_records_dropped_total counter\nfleetd_db_records_dropped_total %d\n", mt.dbDropped.Load())
	fmt.Fprintf(rw, "# TYPE fleetd_db_write_queue gauge\nfleetd_db_write_queue %d\n", len(w.m.writes))
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
